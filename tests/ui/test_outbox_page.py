"""The demo outbox page exists in demo mode only; elsewhere its route is not registered and its state is refused.

The app module is imported in child processes (as in test_page_access): importing it
here would leave its states behind for the app-running tests of the same session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzzydice.auth.sessions import FULL
from tests.app_fixtures import app_child_report

REPORT = """
import json
import fuzzydice.fuzzydice as app_module
from fuzzydice.ui.pages.outbox import OutboxState

rule = app_module.guard.rules.get(OutboxState.get_full_name())
print(json.dumps({
    "routes": sorted(app_module.app._unevaluated_pages),
    "level": None if rule is None else rule.level_of("on_load"),
}))
"""


@pytest.mark.parametrize("mode", ["production", "demo"])
def test_the_outbox_page_is_registered_in_demo_mode_only(tmp_path: Path, mode: str) -> None:
    report = app_child_report(REPORT, tmp_path, mode=mode)
    assert "login" in report["routes"]  # the app did register its pages
    if mode == "demo":
        assert "demo/outbox" in report["routes"]
        assert report["level"] == 0  # public: a new user reads the code before they can sign in
    else:
        assert "demo/outbox" not in report["routes"]
        assert report["level"] > FULL  # no session, however signed in, may load its rows
