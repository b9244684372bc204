"""No secret ever reaches the audit trail (issue #8, audit trail).

One account lives through every flow that writes an entry: registration, password
sign-ins right, wrong and throttled, authenticator enrolment (a wrong code, then the
right one), the second step (wrong codes up to the lock, then the right one), a backup
code, regenerated backup codes, step-up, a wallet linked and unlinked, the password
removed and added again, wallet sign-ins (a bad signature, then a good one) and
sign-outs. Every secret handed out or typed on the way is kept: passwords (right and
wrong), the authenticator secret and its otpauth URI, every code, backup codes, claim
tickets and their bind values, session tokens and their hashes, SIWE nonces and
signatures. Then every text column of every audit row is searched for each of them
(`assert_audit_holds_none_of`: as typed, grouped, dashed or not, in any case).
Real flows, a real database (SQLite and PostgreSQL), real bcrypt, pyotp and secp256k1.
"""

from __future__ import annotations

import sqlalchemy as sa
from eth_account import Account

from fuzzydice.auth import flows, identities, step_up
from fuzzydice.auth.sessions import FIRST_FACTOR, FULL
from fuzzydice.auth.tokens import token_hash
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.models import AuditEvent
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows
from tests.conftest import handoff, next_totp_code, session_id_of
from tests.mfa.conftest import assert_audit_holds_none_of, code_at, wrong_code
from tests.wallet_steps import TAB, challenge, sign

EMAIL = "ada.lovelace@example.com"
PASSWORD = "violet kettle drums at noon"
SECOND_PASSWORD = "copper lantern swims past midnight"
WRONG_PASSWORD = "violet kettle drums at dawn"
IP = "203.0.113.10"
THIEF = "198.51.100.66"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"


class Secrets:
    """Everything secret the test gave out or typed, in the forms it may take."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, *values: str) -> None:
        for value in values:
            assert value, "an empty secret would match everything"
            bare = "".join(value.split()).replace("-", "")
            self.values |= {value.lower(), bare.lower()}


def session(services: Services, secrets: Secrets, user_id: int, level: int, replaces: str | None = None) -> tuple[str, int]:
    """A session through the real hand-off (ticket, bind, claim): (token, id)."""
    issued, claimed = handoff(services, user_id, level, replaces, ip=IP, user_agent=UA)
    secrets.add(issued.ticket, issued.bind, claimed.token, token_hash(claimed.token), token_hash(issued.ticket))
    return claimed.token, session_id_of(services, claimed.token)


def signed(account, services: Services, secrets: Secrets, purpose: str, user_id: int | None, signer=None) -> dict:
    """A challenge for `account`, signed (by `signer`, else the account itself)."""
    issued = challenge(services, account, purpose, user_id, ip=IP)
    signature = sign(signer or account, issued.message)
    secrets.add(issued.nonce, signature, signature.removeprefix("0x"))
    return {"nonce": issued.nonce, "signature": signature, "binding": TAB}


def password_sign_in(services: Services, secrets: Secrets, password: str, ip: str = IP):
    secrets.add(password)
    return flows.sign_in_with_password(services, email=EMAIL, password=password, ip=ip, user_agent=UA)


def second_step(services: Services, secrets: Secrets, user_id: int, session_id: int, typed: str, method: str = "totp"):
    secrets.add(typed)
    return mfa_flows.verify_second_step(services, user_id=user_id, session_id=session_id, code=typed, method=method)


def live_through_every_audited_flow(services: Services, clock: FixedClock, secrets: Secrets) -> int:
    settings = services.settings

    # Registration; sign-ins wrong (a thief, until throttled) and right.
    secrets.add(PASSWORD)
    registered = flows.register(services, name="Ada Lovelace", email=EMAIL, password=PASSWORD, ip=IP, user_agent=UA)
    assert registered.ok, registered
    ada = registered.value.user_id
    results = [password_sign_in(services, secrets, WRONG_PASSWORD, THIEF) for _ in range(settings.backoff_free_failures + 1)]
    assert [r.ok for r in results] == [False] * len(results) and results[-1].code == "rate_limited"
    assert password_sign_in(services, secrets, PASSWORD).ok
    assert not flows.sign_in_with_password(
        services, email="nobody.at.all@example.com", password=WRONG_PASSWORD, ip=IP, user_agent=UA
    ).ok

    # Enrolment from the first-factor session: a wrong code, then the right one; backup codes shown.
    token, enrolling = session(services, secrets, ada, FIRST_FACTOR)
    pending = mfa_flows.pending_enrolment(services, user_id=ada, session_id=enrolling)
    assert pending.ok, pending
    secret = pending.value.secret
    secrets.add(secret, pending.value.grouped_secret, pending.value.uri)
    typed = wrong_code(services, secret)
    secrets.add(typed)
    assert not mfa_flows.activate_totp(services, user_id=ada, session_id=enrolling, code=typed).ok
    typed = code_at(services, secret)
    secrets.add(typed)
    assert mfa_flows.activate_totp(services, user_id=ada, session_id=enrolling, code=typed).ok
    backup_codes = mfa_flows.backup_codes_to_show(services, user_id=ada, session_id=enrolling)
    assert backup_codes
    secrets.add(*backup_codes)
    mfa_flows.acknowledge_backup_codes(services, user_id=ada, session_id=enrolling)
    token, _ = session(services, secrets, ada, FULL, replaces=token)
    assert flows.sign_out(services, token, ip=IP, user_agent=UA)

    # The second step: wrong codes up to the lock; after it lifts, the right code.
    clock.advance(settings.totp_period)
    assert password_sign_in(services, secrets, PASSWORD).ok
    token, signing_in = session(services, secrets, ada, FIRST_FACTOR)
    for _ in range(settings.second_factor_max_failures):
        assert not second_step(services, secrets, ada, signing_in, wrong_code(services, secret)).ok
    assert mfa_flows.attempts_left(services, ada) == 0
    clock.advance(settings.second_factor_lock)  # the pending sign-in ran out meanwhile: sign in again
    assert password_sign_in(services, secrets, PASSWORD).ok
    token, signing_in = session(services, secrets, ada, FIRST_FACTOR)
    assert second_step(services, secrets, ada, signing_in, code_at(services, secret)).ok
    token, _ = session(services, secrets, ada, FULL, replaces=token)
    assert flows.sign_out(services, token, ip=IP, user_agent=UA)

    # A backup code instead, in its displayed form.
    assert password_sign_in(services, secrets, PASSWORD).ok
    token, signing_in = session(services, secrets, ada, FIRST_FACTOR)
    assert second_step(services, secrets, ada, signing_in, backup_codes[3], method="backup_codes").ok
    token, full = session(services, secrets, ada, FULL, replaces=token)

    # Step-up, then changes: backup codes regenerated, a wallet linked, the password removed and
    # added again, the wallet unlinked (each change may end the other sessions).
    session(services, secrets, ada, FULL)  # another browser, ended by the changes
    typed = next_totp_code(services, clock, secret)
    secrets.add(typed)
    assert step_up.confirm_second_factor(services, session_id=full, user_id=ada, code=typed).ok
    regenerated = mfa_flows.regenerate_backup_codes(services, user_id=ada, session_id=full)
    assert regenerated.ok, regenerated
    secrets.add(*regenerated.value)
    wallet = Account.create()
    secrets.add(wallet.key.hex())
    assert identities.link_wallet(
        services, session_id=full, user_id=ada, **signed(wallet, services, secrets, "link", ada)
    ).ok
    assert identities.unlink_password(services, session_id=full, user_id=ada).ok
    secrets.add(SECOND_PASSWORD)
    added = identities.add_password(services, session_id=full, user_id=ada, email=EMAIL, password=SECOND_PASSWORD)
    assert added.ok, added
    assert identities.unlink_wallet(services, session_id=full, user_id=ada, address=wallet.address).ok
    assert flows.sign_out(services, token, ip=IP, user_agent=UA)

    # Wallet sign-ins: a signature by the wrong key, then the wallet's own (a new account).
    newcomer, impostor = Account.create(), Account.create()
    secrets.add(newcomer.key.hex(), impostor.key.hex())
    refused = wallet_flows.complete_sign_in(
        services, **signed(newcomer, services, secrets, "sign_in", None, signer=impostor), ip=IP, user_agent=UA
    )
    assert not refused.ok
    signed_in = wallet_flows.complete_sign_in(services, **signed(newcomer, services, secrets, "sign_in", None), ip=IP, user_agent=UA)
    assert signed_in.ok, signed_in
    token, _ = session(services, secrets, signed_in.value.user_id, FIRST_FACTOR)
    assert flows.sign_out(services, token, ip=IP, user_agent=UA)
    return ada


def test_no_audit_entry_holds_a_secret_in_any_column(services: Services, clock: FixedClock) -> None:
    secrets = Secrets()
    live_through_every_audited_flow(services, clock, secrets)

    table = AuditEvent.__table__
    with services.db() as db:
        rows = [row._asdict() for row in db.execute(sa.select(table).order_by(table.c.id))]

    # The flows did write their entries (a scan of an empty trail proves nothing).
    written = {(row["kind"], row["result"]) for row in rows}
    expected = {
        ("registered", "ok"), ("sign_in", "ok"), ("sign_in", "failed"), ("sign_in", "throttled"),
        ("factor_enrolled", "ok"), ("second_step", "ok"), ("second_step", "failed"), ("second_step_locked", "ok"),
        ("backup_code_used", "ok"), ("backup_codes_regenerated", "ok"), ("step_up", "ok"), ("wallet_linked", "ok"),
        ("password_removed", "ok"), ("password_added", "ok"), ("wallet_unlinked", "ok"), ("sessions_ended", "ok"),
        ("sign_out", "ok"),
    }
    assert expected <= written, expected - written
    assert any(row["user_agent"] == UA for row in rows) and any(row["ip"] == IP for row in rows)

    assert len(secrets.values) > 60
    assert_audit_holds_none_of(services, secrets.values)
