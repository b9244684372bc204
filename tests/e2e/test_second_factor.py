"""End to end: mandatory TOTP enrolment, backup codes, the second-step lock and tabs that follow."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.e2e.journeys import (
    BACKUP_CODES,
    HOME,
    LOGIN,
    SCAN,
    STEP_SECONDS,
    VERIFY,
    code_now,
    enter_code,
    read_manual_key,
    register,
    register_and_enrol,
    sign_in,
    sign_in_password,
    sign_out,
    skip_funding,
)

FOLLOW_MS = 10_000  # upper bound of the wait; tabs follow within a few seconds


def test_enrolment_is_forced_and_then_codes_work_once(context, page, base_url, app_clock):
    account = register(page, base_url)
    expect(page).to_have_url(SCAN)
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = read_manual_key(page)

    # No full page until enrolment is done; the pending secret survives a reload and a second tab.
    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(SCAN)
    page.reload()
    assert read_manual_key(page) == secret
    other = context.new_page()
    other.goto(f"{base_url}/login/scan")
    assert read_manual_key(other) == secret
    other.close()

    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(VERIFY)
    field = page.get_by_label("Code from your authenticator app")
    expect(field).to_have_attribute("inputmode", "numeric")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    # Room for a code pasted as apps show it ("123 456"), and no pattern that would refuse it silently.
    expect(field).to_have_attribute("maxlength", "10")
    expect(field).not_to_have_attribute("pattern", re.compile(".*"))
    enter_code(page, code_now(secret, app_clock))

    # Backup codes: listed, downloadable, still there after a reload until Continue.
    expect(page).to_have_url(BACKUP_CODES)
    items = page.get_by_role("list", name="Backup codes").get_by_role("listitem")
    expect(items).to_have_count(10)
    shown = [text.strip() for text in items.all_inner_texts()]
    assert all(re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code) for code in shown)
    # On a phone (390 px) each code stays on one line: one column, every row as tall as one line.
    page.set_viewport_size({"width": 390, "height": 844})
    heights = {round(items.nth(i).bounding_box()["height"]) for i in range(10)}
    lefts = {round(items.nth(i).bounding_box()["x"]) for i in range(10)}
    assert len(heights) == 1 and len(lefts) == 1, (heights, lefts)
    page.set_viewport_size({"width": 1280, "height": 720})
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "fuzzydice-backup-codes.txt"
    saved = re.findall(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", open(download.path()).read())
    assert saved == shown
    page.reload()
    expect(items).to_have_count(10)
    assert [text.strip() for text in items.all_inner_texts()] == shown
    page.get_by_role("button", name="Continue").click()
    skip_funding(page)
    expect(page.locator("#backup-codes-left")).to_have_text("Backup codes left: 10")

    # The secret is never shown again.
    page.goto(f"{base_url}/login/scan")
    expect(page).to_have_url(HOME)
    expect(page.locator("#manual-key")).to_have_count(0)

    # Sign in with password + TOTP; the same code is refused the next time.
    account.secret = secret
    sign_out(page)
    sign_in_password(page, base_url, account)
    expect(page).to_have_url(VERIFY)
    app_clock.advance(STEP_SECONDS)
    used = code_now(secret, app_clock)
    enter_code(page, used)
    expect(page).to_have_url(HOME)
    sign_out(page)
    sign_in_password(page, base_url, account)
    enter_code(page, used)
    # Refused, said as it is, and not counted as a guess (a double submission must not lock the owner).
    expect(page.get_by_role("alert")).to_have_text("That code was already used. Wait for the next code in your app.")
    expect(page).to_have_url(VERIFY)

    # A backup code works once.
    page.get_by_role("button", name="Use a backup code instead").click()
    page.get_by_label("Backup code").fill(shown[3].lower())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(HOME)
    expect(page.locator("#backup-codes-left")).to_have_text("Backup codes left: 9")
    sign_out(page)
    sign_in_password(page, base_url, account)
    page.get_by_role("button", name="Use a backup code instead").click()
    page.get_by_label("Backup code").fill(shown[3])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right.")
    expect(page).to_have_url(VERIFY)


def test_five_wrong_codes_lock_the_second_step(page, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock)
    sign_out(page)
    sign_in_password(page, base_url, account)
    expect(page).to_have_url(VERIFY)
    app_clock.advance(STEP_SECONDS)
    right = code_now(account.secret, app_clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    alert = page.get_by_role("alert")
    for left in (4, 3, 2, 1):
        enter_code(page, wrong)
        expect(alert).to_have_text(f"That code is not right. {left} attempt{'s' if left > 1 else ''} left.")
    # An empty code counts too (submitted past the browser's own "required" check).
    page.evaluate(
        "() => { const f = document.querySelector('form'); f.noValidate = true;"
        " f.querySelector('#code').value = ''; f.requestSubmit(); }"
    )
    # The lock lifts 15 minutes after the fifth failure (a minute boundary may pass while the page answers).
    lifts = {f"{app_clock.now() + timedelta(minutes=15, seconds=s):%H:%M}" for s in (0, 60)}
    expect(alert).to_have_text(
        re.compile(
            r"^That code is not right\. Too many wrong codes, so this step is locked for now\. "
            rf"Try again in 1[45] minutes \(at ({'|'.join(lifts)}) UTC\)\.$"
        )
    )
    # While locked, even the right code is not looked at; the answer says when the lock lifts.
    enter_code(page, right)
    expect(alert).to_have_text(
        re.compile(r"^Too many wrong codes, so this step is locked for now\. Try again in \d+ minutes \(at \d\d:\d\d UTC\)\.$")
    )
    expect(page).to_have_url(VERIFY)
    # The lock ends after 15 minutes; the pending step (10 minutes) has too, and the tab says so by itself.
    app_clock.advance(15 * 60)
    expect(page).to_have_url(re.compile(r"/login/?\?expired=1$"), timeout=FOLLOW_MS)
    expect(page.get_by_role("status")).to_contain_text("expired before the second step")
    sign_in(page, base_url, account, app_clock, path="")


def test_expired_pending_step_starts_over_with_a_message(page, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock)
    sign_out(page)
    sign_in_password(page, base_url, account)
    expect(page).to_have_url(VERIFY)
    app_clock.advance(10 * 60)
    # The open tab notices by itself (no click needed) and starts over with a message.
    expect(page).to_have_url(re.compile(r"/login/?\?expired=1$"), timeout=FOLLOW_MS)
    expect(page.get_by_role("status")).to_have_text(
        "Your sign-in expired before the second step was done. Please sign in again."
    )
    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(LOGIN)


def test_enrolment_in_one_tab_moves_the_other_on(context, base_url, app_clock):
    tab_a = context.new_page()
    register(tab_a, base_url)
    expect(tab_a).to_have_url(SCAN)
    secret = read_manual_key(tab_a)
    tab_b = context.new_page()
    tab_b.goto(f"{base_url}/login/scan")
    assert read_manual_key(tab_b) == secret

    tab_a.get_by_role("button", name="Continue").click()
    enter_code(tab_a, code_now(secret, app_clock))
    expect(tab_a).to_have_url(BACKUP_CODES)
    # Tab B was left alone on the enrolment page: it moves on by itself.
    expect(tab_b).to_have_url(BACKUP_CODES, timeout=FOLLOW_MS)
    expect(tab_b.locator("#manual-key")).to_have_count(0)


def test_phones_get_an_open_in_authenticator_link(browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        register(page, base_url)
        expect(page).to_have_url(SCAN)
        link = page.get_by_role("link", name="Open in authenticator app")
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", re.compile(r"^otpauth://totp/Fuzzy%20Dice:.*secret=[A-Z2-7]{32}.*issuer=Fuzzy%20Dice"))
    finally:
        context.close()
