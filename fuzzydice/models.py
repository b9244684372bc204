"""Tables, as plain SQLModel classes. Schema changes go through Alembic only."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator):
    """A timestamp that is always an aware UTC datetime, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use timezone-aware UTC")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utc_column(*, nullable: bool = False, index: bool = False) -> sa.Column:
    """A column of UtcDateTime."""
    return sa.Column(UtcDateTime(), nullable=nullable, index=index)


class User(SQLModel, table=True):
    """A person who signs in; the ways in (email + password, wallets) are rows of `identities`."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    phone_verified: bool = False
    created_at: datetime = Field(sa_column=utc_column())
    last_sign_in_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    previous_sign_in_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    disabled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    """Set by an operator (`python -m fuzzydice.admin disable`): the account cannot sign in and its sessions stop."""


class Identity(SQLModel, table=True):
    """One way to sign in to an account: its email + password, or one of its wallets (`fuzzydice.auth.identity_rows`).

    `identifier` is what sign-in looks the account up by: the normalized email (kind
    `password`) or the EIP-55 address (kind `wallet`); one account per identifier.
    An account holds at most one password identity and any number of wallets.
    """

    __tablename__ = "identities"
    __table_args__ = (sa.UniqueConstraint("kind", "identifier", name="uq_identity_kind_identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    """`password` or `wallet`."""
    identifier: str = Field(max_length=320)
    email: str | None = Field(default=None, max_length=320)
    """The email as typed (password identities)."""
    password_hash: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=utc_column())
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AuthSession(SQLModel, table=True):
    """A server-side session; the browser holds only the token, the table only its hash."""

    __tablename__ = "auth_sessions"
    __table_args__ = {"sqlite_autoincrement": True}
    """Ids are never reused (SQLite would hand a deleted session's id to the next): audit entries name sessions by id."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    factor_level: int = 1
    remember: bool = False
    created_at: datetime = Field(sa_column=utc_column())
    last_seen_at: datetime = Field(sa_column=utc_column())
    idle_expires_at: datetime = Field(sa_column=utc_column(index=True))
    absolute_expires_at: datetime = Field(sa_column=utc_column(index=True))
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)
    fresh_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    """Sensitive changes are allowed until then (a second factor was just given again)."""
    wallet_fresh_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    """A wallet user signed a fresh message; the code must follow before then."""
    pending_totp_secret: str | None = Field(default=None, max_length=300)
    """An authenticator secret this session is enrolling (sealed); no other session ever sees it."""
    pending_totp_created_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    backup_codes_to_show: str | None = Field(default=None, max_length=2000)
    """Fresh backup codes (sealed), shown to this session only until the user confirms they saved them."""
    first_factor: str | None = Field(default=None, max_length=16)
    """How the first step was proved (`password`, `wallet`, …): that channel never serves as the second."""
    second_factor: str | None = Field(default=None, max_length=16)
    """The kind of second factor that made this session full (`totp`, `backup_codes`, …)."""


class SiweChallenge(SQLModel, table=True):
    """A Sign-In-With-Ethereum message the server built and waits to see signed (used once)."""

    __tablename__ = "siwe_challenges"

    id: int | None = Field(default=None, primary_key=True)
    nonce: str = Field(max_length=64, unique=True, index=True)
    message: str = Field(max_length=4000)
    address: str = Field(max_length=42)
    chain_id: int = Field(sa_type=sa.BigInteger)
    """EIP-155 chain id; ids above 2**31 exist (PostgreSQL's INTEGER would overflow)."""
    purpose: str = Field(default="sign_in", max_length=16)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    binding_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))


class RateLimitWindow(SQLModel, table=True):
    """Requests counted per key in a fixed window (e.g. `/api/check` per IP)."""

    __tablename__ = "rate_limit_windows"
    __table_args__ = (sa.UniqueConstraint("key", "window_start", name="uq_rate_limit_key_window"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128)
    window_start: datetime = Field(sa_column=utc_column(index=True))
    count: int = 0


class ClaimTicket(SQLModel, table=True):
    """A one-time ticket that hands a new session to the browser that earned it."""

    __tablename__ = "claim_tickets"

    id: int | None = Field(default=None, primary_key=True)
    ticket_hash: str = Field(max_length=64, unique=True, index=True)
    bind_hash: str = Field(max_length=64)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    factor_level: int = 1
    remember: bool = False
    next_path: str = Field(default="/", max_length=512)
    tab_hash: str = Field(default="", max_length=64)
    """SHA-256 of the client token of the tab that earned the ticket; only that tab redeems it."""
    replaces_token_hash: str | None = Field(default=None, max_length=64)
    first_factor: str | None = Field(default=None, max_length=16)
    second_factor: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))


class SignInThrottle(SQLModel, table=True):
    """First-factor attempts of one (account, IP) pair, the backoff they earned, and the pair's last success.

    The row whose `ip` is `*` (`throttle.NEW_SOURCES`) counts the account's failures from sources new to it:
    the account-wide backoff.
    """

    __tablename__ = "sign_in_throttles"
    __table_args__ = (sa.UniqueConstraint("account_key", "ip", name="uq_throttle_account_ip"),)

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=64)
    ip: str = Field(max_length=64)
    failures: int = 0
    blocked_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(sa_column=utc_column(index=True))
    last_success_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    """When this account last completed its first factor from this IP (a known source is not slowed account-wide)."""


class KeyFingerprint(SQLModel, table=True):
    """The fingerprint of each server key in use, so a wrong key is refused at start."""

    __tablename__ = "key_fingerprints"

    name: str = Field(primary_key=True, max_length=32)
    key_id: str = Field(max_length=16)
    fingerprint: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=utc_column())


class SecondFactor(SQLModel, table=True):
    """One second factor of a user: the registry every kind lives in (`fuzzydice.mfa.registry`).

    `sealed_data` is whatever the kind keeps secret (a TOTP secret, sealed with the AES
    key); `counter` is the kind's replay guard (TOTP: the last time step accepted).
    `slot` tells apart several factors of one kind (passkeys: the credential id); kinds
    an account holds once use "".
    """

    __tablename__ = "second_factors"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", "slot", name="uq_second_factor_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    slot: str = Field(default="", max_length=128)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_column=utc_column())
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    sealed_data: str | None = Field(default=None, max_length=2000)
    counter: int | None = Field(default=None, sa_type=sa.BigInteger)


class BackupCode(SQLModel, table=True):
    """One single-use backup code, stored as a keyed hash."""

    __tablename__ = "backup_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=80, unique=True)
    created_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SecondFactorLock(SQLModel, table=True):
    """Second-factor failures of one account in one scope (all factors together) and its lock.

    Scopes: `sign_in` (the second step after a first factor) and `step_up` (a full
    session confirming a sensitive change), so failures of someone who only has the
    password never lock the owner's own signed-in sessions out of step-up. Every change
    is a compare-and-set on `version` (see `fuzzydice.mfa.lock`).
    """

    __tablename__ = "second_factor_locks"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    scope: str = Field(default="sign_in", primary_key=True, max_length=16)
    recent_failures: str = Field(default="[]", sa_column=sa.Column(sa.Text(), nullable=False))
    """JSON list of the times (ISO 8601, UTC, oldest first) of the failures that may still count, at most the maximum."""
    in_flight: int = 0
    """Codes being checked right now; they hold a slot until they succeed or fail."""
    last_reserved_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    """When the last slot was taken; slots still held a whole window later belong to requests that died."""
    locked_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    version: int = 0
    """Bumped by every change, which only applies to the version it read."""


class AuditEvent(SQLModel, table=True):
    """A security event of an account (who, what, from where, when); the user sees their own."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_user_id_created_at", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    """None when no account is known (a failed sign-in for an unknown email)."""
    session_id: int | None = None
    """The session the request ran in; no foreign key: sessions end, their history stays."""
    kind: str = Field(max_length=40)
    """The action (`fuzzydice.audit.Action`)."""
    result: str = Field(default="ok", max_length=16, sa_column_kwargs={"server_default": "ok"})
    """How it went (`fuzzydice.audit.Result`)."""
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)
    details: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    """Facts as a JSON object (never a secret: `fuzzydice.audit.record` checks the keys and values)."""
    created_at: datetime = Field(sa_column=utc_column(index=True))
    seen_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    """When the user dismissed it (alerts are shown until then)."""


class OutboxMessage(SQLModel, table=True):
    """A mail or SMS kept instead of sent (the demo outbox, read at /demo/outbox)."""

    __tablename__ = "outbox_messages"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=8)
    """`mail` or `sms`."""
    recipient: str = Field(max_length=320)
    subject: str | None = Field(default=None, max_length=998)
    """Mail only (RFC 5322's line limit); None for an SMS."""
    body_text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    body_html: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    created_at: datetime = Field(sa_column=utc_column(index=True))


class FaucetGrant(SQLModel, table=True):
    """Test funds the demo faucet sent (or is sending) to one address on one chain (`fuzzydice.funding.faucet`).

    The row is the reservation: inserted before anything is sent, deleted again when the
    sending fails. `period_start` is the start of the UTC day (`faucet_period`) it counts
    in: one grant per (chain, address) and at most `faucet_grants_per_user` per account
    (`user_slot` 0, 1, …) in a period, both held by unique constraints.
    """

    __tablename__ = "faucet_grants"
    __table_args__ = (
        sa.UniqueConstraint("chain_id", "address", "period_start", name="uq_faucet_grant_address_period"),
        sa.UniqueConstraint("user_id", "period_start", "user_slot", name="uq_faucet_grant_user_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    chain_id: int = Field(sa_type=sa.BigInteger)
    address: str = Field(max_length=42)
    """EIP-55 address the funds go to (a wallet of the account when it asked)."""
    period_start: datetime = Field(sa_column=utc_column())
    user_slot: int
    """Which of the account's grants of the period this is (0 … `faucet_grants_per_user` - 1)."""
    requested_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    """When every transfer was mined; None while sending."""
    transfers: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    """JSON list of the transfers sent: symbol, amount (decimal string), token address or null, transaction hash."""


class PlaySession(SQLModel, table=True):
    """A play session started on /launch (`fuzzydice.play.sessions`); not a sign-in session.

    `running_user_id` holds the user's id while the session runs and is cleared when it
    ends: its unique constraint lets each account run one play session at a time, on
    SQLite and PostgreSQL alike, however many starts race.
    """

    __tablename__ = "play_sessions"
    __table_args__ = (
        sa.UniqueConstraint("running_user_id", name="uq_play_session_running_user"),
        sa.Index("ix_play_sessions_user_id_started_at", "user_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    running_user_id: int | None = None
    chain_id: int = Field(sa_type=sa.BigInteger)
    minutes: int
    spending_limit: str = Field(max_length=80)
    """A decimal string in whole units of `symbol` (e.g. `0.25`): recorded and shown, not enforced on chain."""
    symbol: str = Field(max_length=16)
    started_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column(index=True))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    end_reason: str | None = Field(default=None, max_length=16)
    """`user` (ended on /launch) or `expired` (its time ran out)."""
