"""Attack review #7, finding 10: malformed events are refused with a message, never an exception.

A forged socket.io frame can give a handler a list or null where a dict belongs,
leave an argument out, add one, nest a dict where a string belongs, or send a
chain id of 4,000 hex digits. Each used to log a traceback and could leave the
tab's busy flag stuck. Now the guard checks every payload against the handler's
annotated parameters before it runs, and handler bodies bound what they read.
Every test checks that the backend logged no error and that the page still works.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.forge import HOOK_SOCKET, LOGIN_STATE, SECURITY_STATE, VERIFY_STATE, WALLET_STATE, forge
from tests.e2e.journeys import (
    BACKUP_CODES,
    PASSWORD,
    SCAN,
    VERIFY,
    Account,
    code_now,
    enter_code,
    read_manual_key,
    register,
    register_and_enrol,
    sign_in_password,
)
from tests.e2e.wallets import wallet_sign_in

REFUSED = "That request could not be understood. Reload the page and try again."
NO_NETWORK = "Your wallet did not say which network it is on. Please try again."
# What the person sees after a forged event: our refusal, or Reflex's toast for an exception it caught.
ANSWERED = re.compile(r"could not be understood|An error occurred")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def backend_log() -> Iterator[list[logging.LogRecord]]:
    """Every log record of the process (the app runs in this process) while the test runs."""
    handler = _Records()
    loggers = [logging.getLogger()]
    reflex_logger = logging.getLogger("reflex")
    if not reflex_logger.propagate:  # Reflex's own sinks cut propagation when they are attached
        loggers.append(reflex_logger)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def assert_no_exception_logged(records: list[logging.LogRecord], *secrets: str) -> None:
    """No traceback, no error, no payload value in the log; Reflex never had to coerce a payload."""
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        assert record.exc_info is None and "Traceback" not in text, f"exception logged: {text[:500]}"
        assert record.levelno < logging.ERROR, f"error logged: {text[:500]}"
        assert "Error transforming event payload" not in text, f"Reflex met a malformed payload: {text[:500]}"
        for secret in secrets:
            assert secret not in text, "a payload value reached the log"


def refusal_logged(records: list[logging.LogRecord], handler: str) -> bool:
    return any(r.levelno == logging.WARNING and f"Refused event {handler}:" in r.getMessage() for r in records)


@pytest.fixture(scope="module")
def password_account(app_harness) -> Account:
    """An account with a password (no second factor yet), created through the app's own flow."""
    from fuzzydice.auth import flows
    from fuzzydice.services import get_services

    email = f"malformed-{uuid.uuid4().hex[:10]}@example.com"
    result = flows.register(get_services(), name="Mal Formed", email=email, password=PASSWORD)
    assert result.ok, result
    return Account(email=email)


def toaster_ready(page) -> None:
    """Wait for the toast area: a toast sent before it is mounted is dropped without a trace."""
    expect(page.get_by_role("region", name=re.compile("^Notifications"))).to_be_attached()


def open_login(page, base_url: str) -> None:
    page.add_init_script(HOOK_SOCKET)
    page.goto(f"{base_url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    toaster_ready(page)


LOGIN_PAYLOADS = {
    "form is a list": {"form": [["email", "a@example.com"], ["password", "x"]]},
    "form is null": {"form": None},
    "form is missing": {},
    "an extra argument": {"form": {"email": "a@example.com", "password": "x"}, "next": "/user/home"},
    "nested values": {"form": {"email": {"x": 1}, "password": ["hunter2-secret"]}},
    "payload is a list": [{"form": {}}],
    "payload is null": None,
}


@pytest.mark.parametrize("payload", list(LOGIN_PAYLOADS.values()), ids=list(LOGIN_PAYLOADS))
def test_malformed_sign_in_is_refused_and_the_form_still_works(page, base_url, backend_log, password_account, payload):
    open_login(page, base_url)
    forge(page, f"{LOGIN_STATE}.submit", payload, raw=True)
    expect(page.get_by_text(ANSWERED).first).to_be_visible()
    assert_no_exception_logged(backend_log, "hunter2-secret")
    expect(page.get_by_text(REFUSED)).to_be_visible()
    assert refusal_logged(backend_log, "LoginState.submit")

    button = page.get_by_role("button", name="Sign in", exact=True)
    expect(button).to_be_enabled()
    sign_in_password(page, base_url, password_account, path="")
    expect(page).to_have_url(SCAN)


def test_a_chain_id_of_4000_hex_digits_gets_the_network_message(page, base_url, backend_log, wallet):
    open_login(page, base_url)
    forge(page, f"{WALLET_STATE}.connected", {"result": {"address": wallet.address, "chainId": "0x" + "f" * 4000}})
    expect(page.get_by_text(re.compile("did not say which network|An error occurred")).first).to_be_visible()
    assert_no_exception_logged(backend_log, "f" * 64)
    expect(page.get_by_role("alert")).to_have_text(NO_NETWORK)
    assert wallet.signed == []

    wallet_sign_in(page, base_url)  # the panel is not stuck: a real wallet sign-in follows
    expect(page).to_have_url(SCAN)


@pytest.mark.parametrize(
    ("handler", "payload"),
    [
        ("connected", {"result": {"address": {"x": 1}, "chainId": "0x7a69"}}),
        ("connected", {"result": "0x7a69"}),
        ("choose", {"wallet_id": {"id": "c0ffee00-0000-4000-8000-000000000001"}}),
        ("choose", {"wallet_id": "x" * 5_000}),
    ],
    ids=["connected-dict-for-address", "connected-text-for-result", "choose-dict", "choose-long-text"],
)
def test_malformed_wallet_events_are_refused(page, base_url, backend_log, wallet, handler, payload):
    open_login(page, base_url)
    forge(page, f"{WALLET_STATE}.{handler}", payload)
    expect(page.get_by_text(ANSWERED).first).to_be_visible()
    assert_no_exception_logged(backend_log)
    expect(page.get_by_text(REFUSED)).to_be_visible()
    assert refusal_logged(backend_log, f"WalletSignInState.{handler}")

    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)


SILENT_WALLET_JS = """
(() => {
  const provider = {request: () => new Promise(() => {}), on: () => {}, removeListener: () => {}};
  const info = Object.freeze({uuid: '511e9700-0000-4000-8000-000000000002', name: 'Silent Wallet', icon: '',
                              rdns: 'dev.fuzzydice.silentwallet'});
  const announce = () => window.dispatchEvent(
    new CustomEvent('eip6963:announceProvider', {detail: Object.freeze({info, provider})}));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
})();
"""


def test_a_refused_answer_puts_the_busy_panel_back_to_rest(page, base_url, backend_log, wallet):
    """The panel waits for a wallet that never answers; a malformed answer is refused and frees the panel."""
    page.add_init_script(SILENT_WALLET_JS)
    open_login(page, base_url)
    page.get_by_role("button", name="Sign in with a wallet").click()
    page.get_by_role("button", name="Silent Wallet").click()
    expect(page.get_by_role("status")).to_have_text("Confirm the connection in your wallet…")

    forge(page, f"{WALLET_STATE}.connected", {"result": {"address": ["0x0"], "chainId": "0x7a69"}})
    expect(page.get_by_text(ANSWERED).first).to_be_visible()
    assert_no_exception_logged(backend_log)
    expect(page.get_by_text(REFUSED)).to_be_visible()
    start = page.get_by_role("button", name="Sign in with a wallet")
    expect(start).to_be_enabled()

    start.click()
    page.get_by_role("button", name="Test Wallet").click()
    expect(page).to_have_url(SCAN)


def test_a_list_for_the_code_form_is_refused_in_a_pending_session(page, base_url, app_clock, backend_log):
    page.add_init_script(HOOK_SOCKET)
    register(page, base_url)
    expect(page).to_have_url(SCAN)
    secret = read_manual_key(page)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(VERIFY)
    toaster_ready(page)

    forge(page, f"{VERIFY_STATE}.submit", {"form": ["code", "123456"]})
    expect(page.get_by_text(ANSWERED).first).to_be_visible()
    assert_no_exception_logged(backend_log)
    expect(page.get_by_text(REFUSED)).to_be_visible()
    assert refusal_logged(backend_log, "VerifyState.submit")

    expect(page.get_by_role("button", name="Verify")).to_be_enabled()
    enter_code(page, code_now(secret, app_clock))
    expect(page).to_have_url(BACKUP_CODES)


def test_a_dict_for_the_signing_purpose_is_refused(page, base_url, app_clock, backend_log):
    page.add_init_script(HOOK_SOCKET)
    account = register_and_enrol(page, base_url, app_clock)
    page.goto(f"{base_url}/user/security")
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    toaster_ready(page)

    forge(page, f"{SECURITY_STATE}.sign_with_wallet", {"purpose": {"reauth": True}})
    expect(page.get_by_text(ANSWERED).first).to_be_visible()
    assert_no_exception_logged(backend_log)
    expect(page.get_by_text(REFUSED)).to_be_visible()
    assert refusal_logged(backend_log, "SecurityState.sign_with_wallet")

    confirm = page.get_by_role("button", name="Confirm")
    expect(confirm).to_be_enabled()
    app_clock.advance(30)
    page.get_by_label("Authenticator code").fill(code_now(account.secret, app_clock))
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text("Confirmed")
