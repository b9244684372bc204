"""Attack review #7, finding 12: every secret the app has stays out of the logs, in every shape it takes.

Each value is made by the app's own generator and logged through the real `logging`
module with the redaction installed, the way a careless debug line, a library's
request dump or an exception would carry it.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from fuzzydice.auth.tokens import new_token
from fuzzydice.keys import generate_key_text
from fuzzydice.log_redaction import REDACTED, install_redaction
from fuzzydice.mfa import backup_codes, totp
from fuzzydice.settings import Settings
from fuzzydice.siwe import new_nonce

LOGGER = "fuzzydice.security.redaction"


@dataclass
class Secrets:
    password_spaces: str
    password_unicode: str
    totp_secret: str
    totp_grouped: str
    otpauth_uri: str
    totp_code: str
    backup_codes: list[str]
    session_token: str
    bind_cookie: str
    claim_ticket: str
    claim_bind: str
    pepper: str
    aes_key: str
    signing_key: str
    siwe_nonce: str
    wallet_address: str
    wallet_signature: str

    def values(self) -> list[str]:
        singles = [v for k, v in vars(self).items() if isinstance(v, str) and k != "wallet_address"]
        shown = [backup_codes.display(code) for code in self.backup_codes]
        return singles + self.backup_codes + shown

    def fragments(self) -> set[str]:
        """Every group of four of the grouped secrets: none may survive on its own."""
        grouped = [self.totp_grouped, *(backup_codes.display(code) for code in self.backup_codes)]
        return {group for text in grouped for group in re.split(r"[ -]", text) if len(group) >= 4}


@pytest.fixture
def secrets_(settings: Settings) -> Secrets:
    secret = totp.new_secret()
    account = Account.create()
    nonce = new_nonce()
    signature = account.sign_message(encode_defunct(text=f"Nonce: {nonce}")).signature.to_0x_hex()
    now = datetime.now(timezone.utc)
    return Secrets(
        password_spaces="violet kettle drums at noon",
        password_unicode="Grüße aus Köln – 9 Äpfel für Jürgen",
        totp_secret=secret,
        totp_grouped=totp.group_for_reading(secret),
        otpauth_uri=totp.provisioning_uri(secret, "bob@example.com", settings),
        totp_code=totp.code_at_step(secret, totp.time_step(now, settings), settings),
        backup_codes=backup_codes.new_codes(10),
        session_token=new_token(),
        bind_cookie=new_token(),
        claim_ticket=new_token(),
        claim_bind=new_token(),
        pepper=generate_key_text(),
        aes_key=generate_key_text(),
        signing_key=generate_key_text(),
        siwe_nonce=nonce,
        wallet_address=account.address,
        wallet_signature=signature,
    )


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    loggers = [logging.getLogger(LOGGER), logging.getLogger("uvicorn.access")]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    yield stream
    for logger, (level, propagate) in zip(loggers, saved):
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def lines(s: Secrets) -> list[str]:
    """Log lines carrying the secrets as they appear in requests, forms, reprs, JSON and prose."""
    code = s.totp_code
    backup = s.backup_codes[0]
    shown = backup_codes.display(backup)
    typed = shown.replace("-", " ").lower()
    return [
        # Passwords: with spaces, non-ASCII, quoted, JSON, form-encoded.
        f"sign-in for bob password={s.password_spaces}",
        f"sign-in for bob password={s.password_spaces}, remember=True",
        f"sign-up current_password={s.password_unicode} new_password={s.password_spaces}",
        f"form {{'email': 'bob@example.com', 'password': {s.password_unicode!r}}}",
        json.dumps({"email": "bob@example.com", "password": s.password_unicode}, ensure_ascii=False),
        json.dumps({"email": "bob@example.com", "new_password": s.password_spaces}),
        "body " + urlencode({"email": "bob@example.com", "password": s.password_spaces}),
        f"body email=bob%40example.com&password={s.password_spaces}&remember=on",
        f"reauth passwd: {s.password_unicode}; next=/user/security",
        # TOTP secret: raw, grouped as the scan page shows it, inside the otpauth URI.
        f"enrolment for user 7: totp_secret={s.totp_secret}",
        f"scan page shows {s.totp_secret} to user 7",
        f"type this by hand: {s.totp_grouped}",
        f"secret={s.totp_grouped}, user=7",
        f"qr payload {s.otpauth_uri}",
        f"{{'uri': {s.otpauth_uri!r}, 'user': 7}}",
        # TOTP codes under every field name the forms use.
        f"verify code={code} for user 7",
        f"step-up form {{'step_up_code': '{code}', 'tab': 'x'}}",
        f"security form step_up_code={code}&new_code={code}",
        json.dumps({"new_code": code, "remember": True}),
        f"backup_code={code} rejected",
        f"{{'backupCode': '{code}'}}",
        f"the code {code} was refused",
        f"totp: {code}",
        # Backup codes: display form, raw, typed with spaces, and the whole download file.
        f"backup_code={shown} used by user 7",
        f"consumed backup code {shown}",
        f"consumed backup code {backup}",
        f"typed {typed} on the verify page",
        f"typed {shown.replace('-', ' ')} on the verify page",
        f"{{'backup_code': '{backup}'}}",
        "download " + backup_codes.download_text(s.backup_codes),
        f"codes {s.backup_codes!r}",
        # Session, bind and claim tokens: cookies, headers, URLs, reprs.
        f"headers Cookie: fd_session={s.session_token}; fd_bind={s.bind_cookie}",
        f"cookie: __Host-fd_session={s.session_token}; __Host-fd_bind={s.bind_cookie}",
        f"Set-Cookie: __Host-fd_session={s.session_token}; Path=/; Secure; HttpOnly; SameSite=Lax",
        f"X-Session-Token: {s.session_token}",
        f"Authorization: Bearer {s.session_token}",
        f"{{'authorization': 'Bearer {s.session_token}', 'accept': '*/*'}}",
        f"[(b'cookie', b'fd_session={s.session_token}; fd_bind={s.bind_cookie}')]",
        f"session {s.session_token} created for user 7",
        f"GET /api/claim?ticket={s.claim_ticket}&bind={s.claim_bind}&next=/user/home HTTP/1.1",
        json.dumps({"ticket": s.claim_ticket, "bind": s.claim_bind}),
        f"IssuedTicket(ticket='{s.claim_ticket}', bind='{s.claim_bind}', tag='ab12')",
        # Server keys, as env settings and as the demo secrets file.
        f"settings FUZZYDICE_PEPPER={s.pepper} FUZZYDICE_AES_KEY={s.aes_key} FUZZYDICE_SIGNING_KEY={s.signing_key}",
        json.dumps({"pepper": s.pepper, "aes_key": s.aes_key, "signing_key": s.signing_key}),
        f"loaded key material {s.pepper}",
        # SIWE: the nonce (alone and in the message text) and the wallet's signature.
        f"nonce={s.siwe_nonce}",
        f"message:\nURI: http://127.0.0.1:3000/login\nVersion: 1\nChain ID: 31337\nNonce: {s.siwe_nonce}\n"
        "Issued At: 2025-06-01T12:00:00Z",
        f"verify {s.wallet_address} signature={s.wallet_signature}",
        json.dumps({"address": s.wallet_address, "signature": s.wallet_signature}),
        f"wallet sent {s.wallet_signature}",
    ]


def assert_clean(output: str, s: Secrets) -> None:
    leaks = [value for value in s.values() if value in output]
    leaks += sorted(fragment for fragment in s.fragments() if fragment in output)
    # The non-ASCII password's words must not survive either (spaces cut nothing short).
    leaks += [word for word in s.password_unicode.split() if len(word) >= 4 and word in output]
    leaks += [word for word in s.password_spaces.split() if len(word) >= 4 and word in output]
    assert not leaks, f"secrets in the log output: {leaks}\n{output}"


def test_every_secret_in_every_shape_is_redacted(captured: io.StringIO, secrets_: Secrets) -> None:
    logger = logging.getLogger(LOGGER)
    for line in lines(secrets_):
        logger.info(line)
    # With %-style arguments too (the message is built from them at record creation).
    logger.warning("sign-in %s password=%s", "bob", secrets_.password_spaces)
    logger.warning("step-up %r", {"step_up_code": secrets_.totp_code, "new_code": secrets_.totp_code})
    logger.debug("form %s", {"backupCode": backup_codes.display(secrets_.backup_codes[1])})
    # uvicorn's access log passes the path as an argument its formatter unpacks.
    path = f"/api/claim?ticket={secrets_.claim_ticket}&bind={secrets_.claim_bind}"
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "GET", path, "1.1", 302)
    output = captured.getvalue()
    assert output.count(REDACTED) >= len(lines(secrets_))
    assert_clean(output, secrets_)
    # What is not secret stays readable.
    assert "sign-in for bob password=" in output and "remember=True" in output
    assert secrets_.wallet_address in output
    assert '"GET /api/claim?ticket=' in output and '&bind=' in output and ' HTTP/1.1" 302' in output
    assert "Fuzzy Dice backup codes" in output and "next=/user/home HTTP/1.1" in output


def test_an_exception_carrying_a_secret_is_redacted_in_the_traceback(
    captured: io.StringIO, secrets_: Secrets
) -> None:
    logger = logging.getLogger(LOGGER)
    try:
        try:
            raise ValueError(f"bad form {{'step_up_code': '{secrets_.totp_code}', 'password': 'x'}}")
        except ValueError as inner:
            raise RuntimeError(
                f"enrolment failed for secret {secrets_.totp_grouped} and password={secrets_.password_spaces}"
                f" with code {secrets_.backup_codes[2]}, session={secrets_.session_token}"
            ) from inner
    except RuntimeError:
        logger.exception("enrolment crashed")
    output = captured.getvalue()
    assert "enrolment crashed" in output and "Traceback" in output
    assert "RuntimeError: enrolment failed for secret" in output and "ValueError: bad form" in output
    assert_clean(output, secrets_)


@pytest.mark.parametrize(
    "text",
    [
        "user 42 signed in from 203.0.113.5 at 2025-06-01T12:00:00+00:00",
        "GET /user/security?tab=factors 200",
        "HTTP/1.1 429 Too Many Requests",
        '127.0.0.1:5555 - "POST /api/session/claim HTTP/1.1" 303',
        "Your new backup codes are ready; the old ones no longer work, and the session stays open.",
        "This code path will fail when the chain does not answer.",
        "the team said this test will pass once more code gets merged",
        "status_code=200 exit_code=0 elapsed_ms=12",
        "wallet 0x52908400098527886E0F7030069857D2E4169EE7 signed in on chain 8453",
        "KeyError: 'user_id'",
    ],
)
def test_ordinary_log_text_survives(captured: io.StringIO, text: str) -> None:
    logging.getLogger(LOGGER).info(text)
    assert captured.getvalue() == text + "\n"
