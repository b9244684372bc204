"""The app shell as built (no browser): landmarks, the nav's links and which one is current, the account
menu's sign-out, and the 404 page registered for unknown paths.

The page modules are imported in a child process, as in test_page_access: importing their states here
would leave them behind for the app-running tests of the same session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_fixtures import app_child_report

REPORT = """
import json
import fuzzydice.fuzzydice as app_module
from fuzzydice.ui import app_shell, routes
from fuzzydice.ui.pages import home, security
from fuzzydice.ui.pages.not_found import ROUTE, TITLE, not_found_page

def nodes(tree):
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from nodes(value)

def links(tree):
    # (target, marked current) of every router link, with the aria-current of its Radix wrapper if any.
    found = []
    def walk(node, current):
        if isinstance(node, dict):
            props = node.get("props", [])
            marked = current or '"aria-current":"page"' in props
            for prop in props:
                if isinstance(prop, str) and prop.startswith("to:"):
                    found.append([json.loads(prop[3:]), marked])
            for value in node.values():
                walk(value, marked if node.get("name") == "RadixThemesLink" else current)
        elif isinstance(node, list):
            for value in node:
                walk(value, current)
    walk(tree, False)
    return found

def page(component):
    tree = component.render()
    return {
        "tags": sorted({n.get("name") for n in nodes(tree) if isinstance(n.get("name"), str)}),
        "links": links(tree),
        "js": str(component),
    }

unevaluated = app_module.app._unevaluated_pages
print(json.dumps({
    "nav": [[item.label, item.route] for item in app_shell.NAV_ITEMS],
    "home": page(home.home_page()),
    "security": page(security.security_page()),
    "not_found": page(not_found_page()),
    "routes": sorted(unevaluated),
    "not_found_title": str(unevaluated[ROUTE].title) if ROUTE in unevaluated else None,
    "title": TITLE,
}))
"""

NAV = [["Home", "/user/home"], ["Wallet", "/user/wallet"], ["Launch", "/launch"], ["Security", "/user/security"]]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return app_child_report(REPORT, Path(tmp_path_factory.mktemp("shell")))


def test_the_nav_lists_the_signed_in_pages_in_order(report: dict) -> None:
    assert report["nav"] == NAV


@pytest.mark.parametrize(("page", "current"), [("home", "/user/home"), ("security", "/user/security")])
def test_each_shell_page_has_the_landmarks_and_marks_only_itself(report: dict, page: str, current: str) -> None:
    built = report[page]
    assert {'"header"', '"nav"', '"main"'} <= set(built["tags"]), built["tags"]
    assert '"aria-label":"Main"' in built["js"]
    assert 'id:"main-content"' in built["js"] and 'to:"#main-content"' in built["js"]  # the skip link's target
    targets = [target for target, _ in built["links"]]
    for _, route in NAV:
        assert route in targets, (page, route)
    marked = {target for target, is_current in built["links"] if is_current}
    assert marked == {current}, marked  # the wide nav's link (the folded menu is built only when opened)


def test_the_account_menu_signs_out_through_the_session_state(report: dict) -> None:
    for page in ("home", "security"):
        js = report[page]["js"]
        assert '"aria-label":"Account menu"' in js
        assert "sign_out" in js, page  # the "Sign out" item's event (SessionState.sign_out)
        assert "user_name" in js


def test_unknown_paths_get_the_styled_404_with_a_way_home(report: dict) -> None:
    assert "404" in report["routes"]
    assert report["not_found_title"] == report["title"] == "Page not found · Fuzzy Dice"
    built = report["not_found"]
    assert '"Page not found"' in built["js"] and 'src:"/logo.svg"' in built["js"]
    assert "/user/home" in [target for target, _ in built["links"]]
