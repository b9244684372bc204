"""Steps the end-to-end tests share: register, enrol the authenticator, sign in with a code."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pyotp
from playwright.sync_api import expect

PASSWORD = "velvet orbit canyon 7 lantern"
HOME = re.compile(r"/user/home/?$")
LOGIN = re.compile(r"/login/?(\?.*)?$")
SCAN = re.compile(r"/login/scan/?(\?.*)?$")
VERIFY = re.compile(r"/login/verify/?(\?.*)?$")
BACKUP_CODES = re.compile(r"/login/backup-codes/?(\?.*)?$")
FUND = re.compile(r"/user/fund/?$")
STEP_SECONDS = 30


@dataclass
class Account:
    email: str
    password: str = PASSWORD
    secret: str = ""
    backup_codes: list[str] = field(default_factory=list)


def unique_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}@example.com"


def register(page, base_url: str, *, name: str = "Ada Lovelace", email: str | None = None, password: str = PASSWORD) -> Account:
    email = email or unique_email()
    page.goto(f"{base_url}/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Create account").click()
    return Account(email=email, password=password)


def code_now(secret: str, clock) -> str:
    """The code an authenticator app shows at the app's current time."""
    return pyotp.TOTP(secret).at(clock.now())


def read_manual_key(page) -> str:
    key = page.locator("#manual-key")
    expect(key).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$"))
    return key.inner_text().replace(" ", "")


def enrol(page, account: Account, clock) -> Account:
    """From the enrolment page to home: scan (read the key), verify, save backup codes, continue, skip funding."""
    enrol_to_fund(page, account, clock)
    skip_funding(page)
    return account


def enrol_to_fund(page, account: Account, clock) -> Account:
    """From the enrolment page to the fund step: scan (read the key), verify, save backup codes, continue."""
    expect(page).to_have_url(SCAN)
    account.secret = read_manual_key(page)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(VERIFY)
    code = code_now(account.secret, clock)
    # Pasted as authenticator apps show it, with a space in the middle.
    page.get_by_label("Code from your authenticator app").fill(f"{code[:3]} {code[3:]}")
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(BACKUP_CODES)
    codes = page.get_by_role("list", name="Backup codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    account.backup_codes = [text.strip() for text in codes.all_inner_texts()]
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(FUND)
    return account


def skip_funding(page) -> None:
    """The fund step after a first enrolment: "Skip for now" goes home."""
    expect(page).to_have_url(FUND)
    page.get_by_role("link", name="Skip for now").click()
    expect(page).to_have_url(HOME)


def register_and_enrol(page, base_url: str, clock, **kwargs) -> Account:
    return enrol(page, register(page, base_url, **kwargs), clock)


def sign_in_password(page, base_url: str, account: Account, *, remember: bool = False, path: str = "/login") -> None:
    if path:
        page.goto(f"{base_url}{path}")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password", exact=True).fill(account.password)
    if remember:
        page.get_by_label("Remember me for 30 days").check()
    page.get_by_role("button", name="Sign in", exact=True).click()


def enter_code(page, code: str) -> None:
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Verify").click()


def sign_in(page, base_url: str, account: Account, clock, **kwargs) -> None:
    """Password, then a code of a new time step (each step is accepted once)."""
    sign_in_password(page, base_url, account, **kwargs)
    expect(page).to_have_url(VERIFY)
    clock.advance(STEP_SECONDS)
    enter_code(page, code_now(account.secret, clock))
    expect(page).to_have_url(HOME)


ACCOUNT_MENU = "Account menu"
"""The name of the app shell's account button (signed-in pages)."""
REACT_READY_JS = """(selector) => {
  const element = document.querySelector(selector);
  return !!element && Object.keys(element).some((key) => key.startsWith('__reactProps$'));
}"""


def open_account_menu(page):
    """Open the app shell's account menu (once React handles its button: the menu opens on a pointer event)."""
    page.wait_for_function(REACT_READY_JS, arg="#account-menu-trigger")
    page.get_by_role("button", name=ACCOUNT_MENU, exact=True).click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    return menu


def sign_out(page) -> None:
    """From the account menu of a signed-in page, or the "Sign out" button of a second-step page."""
    account = page.get_by_role("button", name=ACCOUNT_MENU, exact=True)
    own_button = page.get_by_role("button", name="Sign out", exact=True)
    expect(account.or_(own_button)).to_be_visible()
    if account.is_visible():
        open_account_menu(page).get_by_role("menuitem", name="Sign out").click()
    else:
        own_button.click()
    expect(page).to_have_url(LOGIN)


def confirm_with_code(page, account: Account, clock) -> None:
    """The fresh second factor of the security page (a code of a new time step)."""
    clock.advance(STEP_SECONDS)
    page.get_by_label("Authenticator code").fill(code_now(account.secret, clock))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Confirmed")
