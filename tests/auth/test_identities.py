"""A user's ways in (email + password, any number of wallets): each change fresh, whole, audited, never the last one.

Real flows on a real database copy (SQLite and PostgreSQL), real bcrypt (cost 4),
real pyotp and real secp256k1 signatures (eth_account); time moves only with the
FixedClock.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from eth_account import Account
from eth_account.signers.local import LocalAccount

from fuzzydice import audit
from fuzzydice.auth import flows, identities, step_up
from fuzzydice.clock import FixedClock
from fuzzydice.models import Identity
from fuzzydice.outcome import Code
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows
from tests.conftest import STRONG_PASSWORD, full_session, pending_session, run_in_parallel, session_id_of, sessions_of
from tests.first_factor import password_sign_in
from tests.mfa.conftest import code_at, enrol
from tests.wallet_steps import TAB, challenge, sign, wallet_sign_in

NEW_PASSWORD = "copper lantern swims past midnight"
CHANGES = (
    audit.Action.WALLET_LINKED, audit.Action.WALLET_UNLINKED, audit.Action.PASSWORD_ADDED,
    audit.Action.PASSWORD_REMOVED, audit.Action.SESSIONS_ENDED,
)


@dataclass
class Person:
    """An enrolled account, one full session of it, and its wallets (the first signs step-up)."""

    user_id: int
    secret: str
    token: str
    session_id: int
    wallets: list[LocalAccount] = field(default_factory=list)
    email: str | None = None


def link(services: Services, person: Person, account: LocalAccount, *, signer: LocalAccount | None = None, **overrides):
    issued = challenge(services, account, overrides.pop("purpose", "link"), overrides.pop("for_user", person.user_id))
    return identities.link_wallet(
        services, session_id=person.session_id, user_id=person.user_id, nonce=issued.nonce,
        signature=sign(signer or account, issued.message), binding=TAB,
    )


def confirm_wallet(services: Services, person: Person, account: LocalAccount):
    issued = challenge(services, account, "reauth", person.user_id)
    return step_up.confirm_wallet(
        services, session_id=person.session_id, user_id=person.user_id, nonce=issued.nonce,
        signature=sign(account, issued.message), binding=TAB,
    )


def make_fresh(services: Services, clock: FixedClock, person: Person, wallet: LocalAccount | None = None) -> None:
    """The real step-up: a `reauth` signature first for a wallet account, then a TOTP code."""
    if step_up.needs_wallet_signature(services, person.user_id):
        assert confirm_wallet(services, person, wallet or person.wallets[0]).ok
    clock.advance(services.settings.totp_period)
    result = step_up.confirm_second_factor(
        services, session_id=person.session_id, user_id=person.user_id, code=code_at(services, person.secret)
    )
    assert result.ok, result
    assert step_up.is_fresh(services, person.session_id, person.user_id)


def rows(services: Services, user_id: int | None = None) -> list[tuple]:
    """The identity rows (of one account), as (user_id, kind, identifier, email, has a hash)."""
    table = Identity.__table__
    query = sa.select(table.c.user_id, table.c.kind, table.c.identifier, table.c.email, table.c.password_hash)
    if user_id is not None:
        query = query.where(table.c.user_id == user_id)
    with services.db() as session:
        return [(r[0], r[1], r[2], r[3], r[4] is not None) for r in session.execute(query.order_by(table.c.id))]


def entries(services: Services, user_id: int, *actions: str) -> list[audit.Event]:
    """The account's audit entries of these actions, oldest first."""
    wanted = {str(a) for a in actions}
    return [e for e in reversed(audit.events(services, user_id, limit=100)) if not wanted or e.action in wanted]


def new_person(services: Services, user_id: int, **extra) -> Person:
    enrolled = enrol(services, user_id)
    token = full_session(services, user_id)
    return Person(user_id, enrolled.secret, token, session_id_of(services, token), **extra)


def another_session(services: Services, person: Person) -> Person:
    token = full_session(services, person.user_id)
    return Person(person.user_id, person.secret, token, session_id_of(services, token), person.wallets, person.email)


@pytest.fixture
def password_person(services: Services, make_user: Callable[..., int]) -> Person:
    email = "ada@example.com"
    return new_person(services, make_user(email), email=email)


@pytest.fixture
def wallet_person(services: Services) -> Person:
    account = Account.create()
    signed_in = wallet_sign_in(services, account)
    assert signed_in.ok and signed_in.value.created
    return new_person(services, signed_in.value.user_id, wallets=[account])


@pytest.fixture
def both_person(services: Services, clock: FixedClock, password_person: Person) -> Person:
    """A password account that has linked a wallet (through the real flow); no longer fresh."""
    account = Account.create()
    make_fresh(services, clock, password_person)
    assert link(services, password_person, account).ok
    clock.advance(services.settings.step_up_lifetime)  # the freshness used for linking is over
    assert not step_up.is_fresh(services, password_person.session_id, password_person.user_id)
    password_person.wallets.append(account)
    return password_person


@pytest.fixture
def two_wallets(services: Services, clock: FixedClock, wallet_person: Person) -> Person:
    """A wallet account that has linked a second wallet (no password); no longer fresh."""
    second = Account.create()
    make_fresh(services, clock, wallet_person)
    assert link(services, wallet_person, second).ok
    clock.advance(services.settings.step_up_lifetime)
    wallet_person.wallets.append(second)
    return wallet_person


# --- without a fresh second factor nothing changes --------------------------------------


def test_every_change_refuses_when_not_fresh_and_changes_nothing(
    services: Services, password_person: Person, wallet_person: Person, both_person: Person
) -> None:
    people = (wallet_person, both_person)  # both_person is password_person with a wallet linked
    trail = {p.user_id: entries(services, p.user_id) for p in people}
    before = rows(services), {p.user_id: sessions_of(services, p.user_id) for p in people}
    new_wallet = Account.create()

    refusals = [
        link(services, password_person, new_wallet),
        identities.add_password(
            services, session_id=wallet_person.session_id, user_id=wallet_person.user_id, email="new@example.com",
            password=NEW_PASSWORD,
        ),
        identities.unlink_wallet(
            services, session_id=both_person.session_id, user_id=both_person.user_id,
            address=both_person.wallets[0].address,
        ),
        identities.unlink_password(services, session_id=both_person.session_id, user_id=both_person.user_id),
    ]
    assert [r.code for r in refusals] == [Code.NOT_FRESH] * 4
    # No session at all, one that is not a session, or someone else's: the session has ended.
    for session_id in (None, 0, 10**9, wallet_person.session_id):
        refused = identities.unlink_password(services, session_id=session_id, user_id=both_person.user_id)
        assert refused.code == Code.SESSION_ENDED, session_id

    assert (rows(services), {p.user_id: sessions_of(services, p.user_id) for p in people}) == before
    assert not password_sign_in(services, "new@example.com", NEW_PASSWORD).ok
    assert wallet_sign_in(services, new_wallet).value.created  # it was never linked
    assert {p.user_id: entries(services, p.user_id) for p in people} == trail  # no entry either


def test_a_first_factor_session_cannot_change_identities_even_right_after_enrolment(
    services: Services, clock: FixedClock, both_person: Person
) -> None:
    _, pending = pending_session(services, both_person.user_id)
    refused = identities.unlink_password(services, session_id=pending, user_id=both_person.user_id)
    assert refused.code == Code.SESSION_ENDED
    assert [r[1] for r in rows(services, both_person.user_id)] == ["password", "wallet"]


def test_freshness_of_another_session_or_a_wallet_signature_alone_does_not_allow_changes(
    services: Services, clock: FixedClock, both_person: Person
) -> None:
    other = another_session(services, both_person)
    make_fresh(services, clock, other)
    assert identities.unlink_password(services, session_id=both_person.session_id, user_id=both_person.user_id).code == (
        Code.NOT_FRESH
    )
    assert confirm_wallet(services, both_person, both_person.wallets[0]).ok  # a reauth signature without the code
    refused = identities.unlink_password(services, session_id=both_person.session_id, user_id=both_person.user_id)
    assert refused.code == Code.NOT_FRESH
    assert [r[1] for r in rows(services, both_person.user_id)] == ["password", "wallet"]


# --- linking wallets -------------------------------------------------------------------------


def test_a_linked_wallet_signs_in_to_the_same_account(services: Services, clock: FixedClock, password_person: Person) -> None:
    account = Account.create()
    elsewhere = another_session(services, password_person)
    make_fresh(services, clock, password_person)
    issued = challenge(services, account, "link", password_person.user_id, address=account.address.lower())
    linked = identities.link_wallet(
        services, session_id=password_person.session_id, user_id=password_person.user_id, nonce=issued.nonce,
        signature=sign(account, issued.message), binding=TAB,
    )
    assert linked.ok and linked.value == account.address  # EIP-55
    uid = password_person.user_id
    assert rows(services, uid) == [
        (uid, "password", "ada@example.com", "ada@example.com", True), (uid, "wallet", account.address, None, False),
    ]
    assert [(i.kind, i.identifier) for i in identities.list_identities(services, user_id=uid)] == [
        ("password", "ada@example.com"), ("wallet", account.address),
    ]
    assert sessions_of(services, uid) == {password_person.session_id}  # the other session ended with the change
    assert elsewhere.session_id not in sessions_of(services, uid)

    by_wallet = wallet_sign_in(services, account)
    assert by_wallet.ok and by_wallet.value.user_id == uid and not by_wallet.value.created
    assert by_wallet.value.step.needs_code  # the same second factor guards every identity
    by_password = password_sign_in(services, "ada@example.com")
    assert by_password.ok and by_password.value.user_id == uid


def test_two_wallets_sign_in_to_one_account_and_either_signs_step_up(
    services: Services, clock: FixedClock, two_wallets: Person
) -> None:
    first, second = two_wallets.wallets
    assert identities.overview(services, session_id=two_wallets.session_id, user_id=two_wallets.user_id) == (
        identities.Overview(email="", has_password=False, wallets=(first.address, second.address), fresh=False)
    )
    for account in (first, second, first):
        signed_in = wallet_sign_in(services, account)
        assert signed_in.ok and signed_in.value.user_id == two_wallets.user_id and not signed_in.value.created
        assert signed_in.value.address == account.address
    make_fresh(services, clock, two_wallets, wallet=second)  # the second wallet's signature counts for step-up
    stranger = Account.create()
    refused = confirm_wallet(services, two_wallets, stranger)
    assert refused.code == Code.WRONG_WALLET


def test_linking_a_wallet_of_another_account_or_one_already_linked_is_refused(
    services: Services, clock: FixedClock, both_person: Person, wallet_person: Person
) -> None:
    make_fresh(services, clock, both_person)
    before = rows(services)
    assert link(services, both_person, wallet_person.wallets[0]).code == Code.WALLET_TAKEN
    assert link(services, both_person, both_person.wallets[0]).code == Code.WALLET_TAKEN
    assert rows(services) == before
    assert wallet_sign_in(services, wallet_person.wallets[0]).value.user_id == wallet_person.user_id
    assert len(entries(services, both_person.user_id, audit.Action.WALLET_LINKED)) == 1  # the fixture's link only


def test_a_link_needs_the_wallets_own_signature_on_a_link_message_for_this_user(
    services: Services, clock: FixedClock, make_user: Callable[..., int], password_person: Person
) -> None:
    account, thief = Account.create(), Account.create()
    make_fresh(services, clock, password_person)
    someone_else = make_user()
    forged = link(services, password_person, account, signer=thief)
    assert forged.code == Code.SIGNATURE_INVALID and forged.detail == "invalid_signature"
    for overrides in ({"for_user": someone_else}, {"for_user": None}, {"purpose": "reauth"}, {"purpose": "sign_in"}):
        assert link(services, password_person, account, **overrides).code == Code.CHALLENGE_UNKNOWN, overrides
    assert [r[1] for r in rows(services, password_person.user_id)] == ["password"]


# --- adding an email + password ---------------------------------------------------------


def add(services: Services, person: Person, email: str, password: str = NEW_PASSWORD):
    return identities.add_password(
        services, session_id=person.session_id, user_id=person.user_id, email=email, password=password
    )


def test_add_password_names_each_bad_field(services: Services, clock: FixedClock, wallet_person: Person) -> None:
    make_fresh(services, clock, wallet_person)
    before = rows(services)
    bad_email = add(services, wallet_person, "not an email")
    assert bad_email.code == Code.INVALID_INPUT and set(bad_email.fields) == {"email"}
    assert bad_email.fields["email"].code == "email_invalid"
    both = add(services, wallet_person, "", "short")
    assert {name: p.code for name, p in both.fields.items()} == {"email": "email_required", "password": "too_short"}
    assert both.fields["password"].params == {"min": 8}
    like_the_email = add(services, wallet_person, "nakamoto.satoshi@example.com", "nakamoto.satoshi")
    assert set(like_the_email.fields) == {"password"}
    assert rows(services) == before


def test_an_added_password_signs_in_to_the_same_account(services: Services, clock: FixedClock, wallet_person: Person) -> None:
    make_fresh(services, clock, wallet_person)
    assert add(services, wallet_person, "  Satoshi@Example.com ").ok
    overview = identities.overview(services, session_id=wallet_person.session_id, user_id=wallet_person.user_id)
    assert overview == identities.Overview(
        email="Satoshi@Example.com", has_password=True, wallets=(wallet_person.wallets[0].address,), fresh=True
    )
    by_password = password_sign_in(services, "satoshi@example.com", NEW_PASSWORD)
    assert by_password.ok and by_password.value.user_id == wallet_person.user_id and by_password.value.step.needs_code
    assert not password_sign_in(services, "satoshi@example.com", NEW_PASSWORD + "!").ok
    assert flows.current_session(services, wallet_person.token).user_email == "Satoshi@Example.com"
    assert [e.action for e in entries(services, wallet_person.user_id, audit.Action.PASSWORD_ADDED)] == ["password_added"]


def test_add_password_refuses_an_email_of_another_account(
    services: Services, clock: FixedClock, make_user: Callable[..., int], wallet_person: Person
) -> None:
    other = make_user("taken@example.com")
    make_fresh(services, clock, wallet_person)
    for email in ("taken@example.com", "TAKEN@Example.COM"):
        taken = add(services, wallet_person, email)
        assert taken.code == Code.INVALID_INPUT and taken.fields["email"].code == "email_taken"
    assert [r[1] for r in rows(services, wallet_person.user_id)] == ["wallet"]
    assert password_sign_in(services, "taken@example.com").value.user_id == other


def test_add_password_does_not_replace_an_existing_password(services: Services, clock: FixedClock, both_person: Person) -> None:
    # Changing a password needs the current one: this path must not be a way around it.
    make_fresh(services, clock, both_person)
    before = rows(services)
    assert add(services, both_person, "ada@example.com").code == Code.HAS_PASSWORD
    assert add(services, both_person, "another@example.com").code == Code.HAS_PASSWORD
    assert rows(services) == before
    assert password_sign_in(services, "ada@example.com").ok
    assert not password_sign_in(services, "ada@example.com", NEW_PASSWORD).ok


# --- unlinking ------------------------------------------------------------------------------


def unlink_wallet(services: Services, person: Person, address: str):
    return identities.unlink_wallet(services, session_id=person.session_id, user_id=person.user_id, address=address)


def test_unlinking_one_wallet_keeps_the_other(services: Services, clock: FixedClock, two_wallets: Person) -> None:
    first, second = two_wallets.wallets
    elsewhere = another_session(services, two_wallets)
    make_fresh(services, clock, two_wallets)
    assert unlink_wallet(services, two_wallets, first.address.lower()).ok  # any spelling of the address
    uid = two_wallets.user_id
    assert rows(services, uid) == [(uid, "wallet", second.address, None, False)]
    assert sessions_of(services, uid) == {two_wallets.session_id}
    assert elsewhere.session_id not in sessions_of(services, uid)
    assert wallet_sign_in(services, second).value.user_id == uid
    again = wallet_sign_in(services, first)  # no longer leads here: a new, separate account
    assert again.value.created and again.value.user_id != uid and not again.value.step.needs_code
    # Now the second wallet is the last way in.
    assert unlink_wallet(services, two_wallets, second.address).code == Code.LAST_IDENTITY

    unlinked = entries(services, uid, audit.Action.WALLET_UNLINKED)
    assert [(e.result, e.details, e.session_id) for e in unlinked] == [
        ("ok", {"address": first.address}, two_wallets.session_id),
    ]
    ended = entries(services, uid, audit.Action.SESSIONS_ENDED)
    assert ended[-1].details == {"count": 1} and ended[-1].id > unlinked[0].id


def test_unlinking_the_wallet_keeps_the_password_and_ends_its_sign_ins_on_their_way(
    services: Services, clock: FixedClock, both_person: Person
) -> None:
    account = both_person.wallets[0]
    waiting = challenge(services, account, "sign_in", None)  # a sign-in with the wallet, not yet signed
    make_fresh(services, clock, both_person)
    assert unlink_wallet(services, both_person, account.address).ok
    late = wallet_flows.complete_sign_in(services, nonce=waiting.nonce, signature=sign(account, waiting.message), binding=TAB)
    assert late.code == Code.CHALLENGE_UNKNOWN
    assert [r[1] for r in rows(services, both_person.user_id)] == ["password"]
    assert password_sign_in(services, "ada@example.com").value.user_id == both_person.user_id


def test_the_last_way_in_cannot_be_removed(
    services: Services, clock: FixedClock, password_person: Person, wallet_person: Person
) -> None:
    for person in (password_person, wallet_person):
        make_fresh(services, clock, person)
    before = rows(services)
    assert identities.unlink_password(
        services, session_id=password_person.session_id, user_id=password_person.user_id
    ).code == Code.LAST_IDENTITY
    assert unlink_wallet(services, wallet_person, wallet_person.wallets[0].address).code == Code.LAST_IDENTITY
    # What the account does not hold is not found, whoever holds it.
    assert unlink_wallet(services, password_person, wallet_person.wallets[0].address).code == Code.IDENTITY_NOT_FOUND
    assert unlink_wallet(services, password_person, "not an address").code == Code.IDENTITY_NOT_FOUND
    assert identities.unlink_password(
        services, session_id=wallet_person.session_id, user_id=wallet_person.user_id
    ).code == Code.IDENTITY_NOT_FOUND
    assert rows(services) == before
    assert wallet_sign_in(services, wallet_person.wallets[0]).value.user_id == wallet_person.user_id


def test_unlinking_the_password_keeps_the_wallet_and_frees_the_email(
    services: Services, clock: FixedClock, both_person: Person
) -> None:
    make_fresh(services, clock, both_person)
    assert identities.unlink_password(services, session_id=both_person.session_id, user_id=both_person.user_id).ok
    overview = identities.overview(services, session_id=both_person.session_id, user_id=both_person.user_id)
    assert overview == identities.Overview(email="", has_password=False, wallets=(both_person.wallets[0].address,), fresh=True)
    assert not password_sign_in(services, "ada@example.com").ok
    assert wallet_sign_in(services, both_person.wallets[0]).value.user_id == both_person.user_id
    assert flows.register(services, name="New Ada", email="ada@example.com", password=STRONG_PASSWORD).ok
    assert [e.action for e in entries(services, both_person.user_id, audit.Action.PASSWORD_REMOVED)] == ["password_removed"]


def test_two_sessions_unlinking_the_two_wallets_at_once_leave_one(
    services: Services, clock: FixedClock, two_wallets: Person
) -> None:
    # Changes of one account run one after the other: the second sees the last way in.
    make_fresh(services, clock, two_wallets)
    addresses = itertools.cycle([w.address for w in two_wallets.wallets])
    lock = threading.Lock()

    def unlink_next():
        with lock:
            address = next(addresses)
        return unlink_wallet(services, two_wallets, address)

    results = run_in_parallel(unlink_next, workers=2)
    assert sorted((r.ok, None if r.ok else r.code) for r in results) == [(False, Code.LAST_IDENTITY), (True, None)]
    assert len(rows(services, two_wallets.user_id)) == 1


# --- one transaction: nothing half-written --------------------------------------------------


def refuse_entry(monkeypatch: pytest.MonkeyPatch, action: audit.Action) -> None:
    """Make the real `audit.record` refuse the entry of `action` (a details value it does not take)."""
    real = audit.record

    def record(session, what, **kwargs):
        if what == action:
            kwargs["details"] = {"count": 1.5}  # not a str, int, bool or None: refused
        return real(session, what, **kwargs)

    monkeypatch.setattr(identities.audit, "record", record)


def test_a_refused_audit_entry_leaves_the_unlink_and_the_other_sessions_as_they_were(
    services: Services, clock: FixedClock, two_wallets: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = another_session(services, two_wallets)
    make_fresh(services, clock, two_wallets)
    before = rows(services), sessions_of(services, two_wallets.user_id), entries(services, two_wallets.user_id)
    refuse_entry(monkeypatch, audit.Action.SESSIONS_ENDED)  # the last write of the use case
    with pytest.raises(ValueError):
        unlink_wallet(services, two_wallets, two_wallets.wallets[0].address)
    assert (rows(services), sessions_of(services, two_wallets.user_id), entries(services, two_wallets.user_id)) == before
    assert flows.current_session(services, elsewhere.token) is not None
    assert wallet_sign_in(services, two_wallets.wallets[0]).value.user_id == two_wallets.user_id


def test_a_refused_audit_entry_leaves_no_password_and_no_session_ended(
    services: Services, clock: FixedClock, wallet_person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = another_session(services, wallet_person)
    make_fresh(services, clock, wallet_person)
    before = rows(services), sessions_of(services, wallet_person.user_id)
    refuse_entry(monkeypatch, audit.Action.PASSWORD_ADDED)
    with pytest.raises(ValueError):
        add(services, wallet_person, "satoshi@example.com")
    assert (rows(services), sessions_of(services, wallet_person.user_id)) == before
    assert flows.current_session(services, elsewhere.token) is not None
    assert not password_sign_in(services, "satoshi@example.com", NEW_PASSWORD).ok
    monkeypatch.undo()
    assert add(services, wallet_person, "satoshi@example.com").ok  # nothing was left half-written in the way


# --- audit entries and sign-ins on their way -------------------------------------------


def test_a_link_is_audited_with_the_sessions_it_ended(services: Services, clock: FixedClock, password_person: Person) -> None:
    another_session(services, password_person)
    another_session(services, password_person)
    make_fresh(services, clock, password_person)
    others = len(sessions_of(services, password_person.user_id)) - 1
    assert others >= 2
    account = Account.create()
    assert link(services, password_person, account).ok
    recorded = entries(services, password_person.user_id, *CHANGES)
    assert [(e.action, e.result, e.details, e.session_id) for e in recorded] == [
        ("wallet_linked", "ok", {"address": account.address}, password_person.session_id),
        ("sessions_ended", "ok", {"count": others}, password_person.session_id),
    ]
    assert recorded[0].ip == IP_OF_TEST_SESSIONS


IP_OF_TEST_SESSIONS = "203.0.113.10"  # tests.conftest.claimed_session claims every session from it


def test_a_change_ends_the_unsigned_sign_ins_of_every_wallet_of_the_account(
    services: Services, clock: FixedClock, two_wallets: Person
) -> None:
    waiting = {w.address: challenge(services, w, "sign_in", None) for w in two_wallets.wallets}
    stranger = Account.create()
    unrelated = challenge(services, stranger, "sign_in", None)
    make_fresh(services, clock, two_wallets)
    assert add(services, two_wallets, "satoshi@example.com").ok
    for wallet in two_wallets.wallets:
        issued = waiting[wallet.address]
        late = wallet_flows.complete_sign_in(services, nonce=issued.nonce, signature=sign(wallet, issued.message), binding=TAB)
        assert late.code == Code.CHALLENGE_UNKNOWN
    done = wallet_flows.complete_sign_in(services, nonce=unrelated.nonce, signature=sign(stranger, unrelated.message), binding=TAB)
    assert done.ok and done.value.created
