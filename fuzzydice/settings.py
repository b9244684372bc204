"""Typed settings: every policy number of the product in one place.

Values come from environment variables prefixed ``FUZZYDICE_`` (for example
``FUZZYDICE_MODE=demo``). Each field's docstring says what it governs.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

from pydantic import field_validator

from fuzzydice.chain.networks import DEMO_NETWORKS, PRODUCTION_NETWORKS, Network, resolve_networks


class Settings(BaseSettings):
    """All configuration of a Fuzzy Dice deployment."""

    model_config = SettingsConfigDict(
        env_prefix="FUZZYDICE_",
        use_attribute_docstrings=True,
        extra="ignore",
    )

    # --- deployment -------------------------------------------------------
    mode: Literal["demo", "production"] = "production"
    """`demo` generates its own secrets and uses local stand-ins; `production` refuses to start without secrets."""

    database_url: str = "sqlite:///fuzzydice.db"
    """SQLAlchemy URL of the database (SQLite file by default, PostgreSQL in production)."""

    secrets_file: Path = Path(".fuzzydice-secrets.json")
    """Where demo mode keeps the secrets it generated on first run (git-ignored)."""

    public_origins: Annotated[list[str], NoDecode] = [
        "http://127.0.0.1:3000",
        "http://localhost:3000",
    ]
    """Exact origins pages are served from; the websocket refuses every other origin (comma separated)."""

    secure_cookies: bool | None = None
    """Force the Secure cookie attribute on or off; by default it follows the request scheme."""

    hsts: bool = True
    """Send Strict-Transport-Security on responses served over https (or with `secure_cookies` forced on)."""

    hsts_max_age: timedelta = timedelta(days=365)
    """How long a browser that saw the HSTS header keeps to https for this host."""

    # --- secrets (base64url, 32 bytes each; required in production) -------
    pepper: SecretStr | None = None
    """Server-side pepper for the HMAC-SHA-384 password pre-hash."""

    aes_key: SecretStr | None = None
    """AES-256-GCM key that encrypts second-factor secrets at rest."""

    signing_key: SecretStr | None = None
    """Key for signed tokens (API access tokens) and keyed hashes of codes."""

    # --- passwords ---------------------------------------------------------
    password_min_length: int = 8
    """Fewest characters a password may have (NIST 800-63B)."""

    password_max_length: int = 256
    """Most characters a password may have; longer input is refused, never truncated."""

    password_min_score: int = 2
    """Lowest zxcvbn score (0-4) a new password must reach."""

    password_estimator_cap: int = 72
    """Characters of a password handed to the strength estimator (zxcvbn's own limit; slow on long input)."""

    bcrypt_cost: int = 12
    """bcrypt work factor (OWASP: at least 10; 12 here)."""

    # --- first-factor throttling ------------------------------------------
    # Failures slow the attacker, never lock the owner out (fuzzydice/auth/throttle.py).
    backoff_free_failures: int = 3
    """Failures per (account, IP) in quick succession before the backoff starts (the last of them earns the first delay)."""

    backoff_initial: timedelta = timedelta(seconds=1)
    """First backoff delay; it doubles with every further failure."""

    backoff_max: timedelta = timedelta(seconds=60)
    """Longest backoff delay per (account, IP)."""

    throttle_memory: timedelta = timedelta(days=1)
    """Quiet time after which the failures of an (account, IP) pair, or of an account, are forgotten."""

    known_source_memory: timedelta = timedelta(days=30)
    """An IP the account completed its first factor from within this time is known: the account-wide backoff never slows it."""

    account_backoff_free_failures: int = 10
    """Failures on one account from sources new to it before the account-wide backoff starts (for new sources only)."""

    account_backoff_initial: timedelta = timedelta(seconds=1)
    """First account-wide delay; it doubles with every further failure from a new source."""

    account_backoff_max: timedelta = timedelta(seconds=60)
    """Longest account-wide delay: the most the owner waits from a new place (guessing from many IPs stays at 1 a minute)."""

    sign_in_ip_failure_limit: int = 50
    """Failed password sign-ins per IP across all accounts within `sign_in_ip_failure_window` (password spraying);
    a success gives its slot back, so a busy office behind one address is not cut off by its good sign-ins."""

    sign_in_ip_failure_window: timedelta = timedelta(hours=1)
    """Window of `sign_in_ip_failure_limit` (at most an hour: cleanup forgets older windows)."""

    sign_in_ip_limit: int = 30
    """Password sign-in attempts per IP within `sign_in_ip_window`, answered before any lookup or hashing (floods)."""

    sign_in_ip_window: timedelta = timedelta(minutes=1)
    """Window of `sign_in_ip_limit`."""

    register_ip_limit: int = 10
    """Registrations per IP within `register_ip_window` (each costs a hash and a row); refused ones cost neither."""

    register_ip_window: timedelta = timedelta(hours=1)
    """Window of `register_ip_limit`."""

    siwe_challenge_ip_limit: int = 30
    """Sign-In-With-Ethereum messages created per IP within `siwe_challenge_ip_window` (each is a stored row)."""

    siwe_challenge_ip_window: timedelta = timedelta(minutes=10)
    """Window of `siwe_challenge_ip_limit`."""

    wallet_sign_in_ip_limit: int = 30
    """Wallet sign-in completions (signature checks, possibly an RPC call and a new account) per IP within
    `wallet_sign_in_ip_window`."""

    wallet_sign_in_ip_window: timedelta = timedelta(minutes=10)
    """Window of `wallet_sign_in_ip_limit`."""

    hash_concurrency: int | None = None
    """bcrypt operations running at once in this process (None: the number of CPUs); more would only queue."""

    hash_wait: timedelta = timedelta(seconds=5)
    """How long a password flow waits for a free hashing slot before it answers "busy, try again" (a burst of
    sign-ins drains at about CPUs / 0.23 s each: 5 s absorbs ~40 at once on 2 cores; a flood is told at once)."""

    password_threads: int = 8
    """Threads of the executor that runs the UI's password flows (kept off the default executor, which the
    session guard's lookups use); at most `hash_concurrency` of them hash, the others answer refusals."""

    password_queue: int = 64
    """Password flows waiting for a thread of that executor; beyond this the UI answers "busy" at once."""

    # --- sessions -----------------------------------------------------------
    session_idle: timedelta = timedelta(hours=1)
    """A session ends after this long without activity."""

    session_absolute: timedelta = timedelta(hours=24)
    """A session ends this long after sign-in, active or not."""

    remember_idle: timedelta = timedelta(days=7)
    """Idle timeout of a "remember me" session."""

    remember_absolute: timedelta = timedelta(days=30)
    """Absolute lifetime of a "remember me" session."""

    session_touch_interval: timedelta = timedelta(seconds=60)
    """Last-seen is written at most this often per session (saves a write per event)."""

    claim_ticket_ttl: timedelta = timedelta(seconds=60)
    """Lifetime of the one-time ticket that hands a new session to the browser."""

    pending_second_step: timedelta = timedelta(minutes=10)
    """How long the state after the first factor lasts without the second."""

    session_cookie_name: str = "fd_session"
    """Name of the HttpOnly session cookie (`__Host-` is prefixed over https)."""

    bind_cookie_name: str = "fd_bind"
    """Name of the short-lived cookie that binds a claim ticket to the browser."""

    tab_check_interval: timedelta = timedelta(seconds=2)
    """How often an open tab re-checks its session so sign-out elsewhere reaches it."""

    # --- second factors (later issues use these) ----------------------------
    totp_digits: int = 6
    """Digits of a TOTP code (design 003 used 8)."""

    totp_algorithm: Literal["SHA1", "SHA256", "SHA512"] = "SHA1"
    """TOTP hash; authenticator apps mostly ignore anything but SHA-1."""

    totp_period: int = 30
    """Seconds per TOTP step."""

    totp_window: int = 1
    """Steps of clock drift accepted either side (at most 1)."""

    totp_pending_lifetime: timedelta = timedelta(minutes=15)
    """A pending enrolment secret stays the same this long (reloads keep a scanned QR valid)."""

    backup_code_count: int = 10
    """Backup codes issued at once."""

    email_code_ttl: timedelta = timedelta(minutes=10)
    """Lifetime of an emailed code."""

    sms_code_ttl: timedelta = timedelta(minutes=5)
    """Lifetime of an SMS code."""

    code_max_tries: int = 3
    """Wrong entries one emailed or SMS code survives."""

    resend_after: timedelta = timedelta(seconds=60)
    """Wait before a code may be sent again."""

    sends_per_window: int = 5
    """Codes sent per account and per IP within `sends_window`."""

    sends_window: timedelta = timedelta(minutes=10)
    """Window of the send limit."""

    second_factor_max_failures: int = 5
    """Second-step failures (all factors together) that lock the second step."""

    second_factor_failure_window: timedelta = timedelta(minutes=15)
    """Sliding window of second-step failures: at any moment, those of the last this long count."""

    second_factor_lock: timedelta = timedelta(minutes=15)
    """How long the second step stays locked; its failures are then forgiven. At least the window, so that no
    more than `second_factor_max_failures` codes are checked in any window."""

    step_up_lifetime: timedelta = timedelta(minutes=5)
    """How long a fresh second factor allows sensitive changes (re-enrol, new backup codes, unlink)."""

    trusted_device_lifetime: timedelta = timedelta(days=30)
    """How long "trust this device" skips the second factor."""

    api_access_token_ttl: timedelta = timedelta(minutes=15)
    """Lifetime of a JSON API access token (JWT HS256)."""

    password_reset_ttl: timedelta = timedelta(minutes=30)
    """Lifetime of a password reset link."""

    siwe_message_ttl: timedelta = timedelta(minutes=5)
    """Validity of a Sign-In-With-Ethereum message and its nonce."""

    chains: dict[int, str] = {}
    """The chains in force, each with its JSON-RPC URL (JSON: {"1": "https://…"}): wallet sign-in may name them,
    the home page reads them. Empty: the demo chains in demo mode, else the `networks` that carry an `rpc_url`."""

    networks: tuple[Network, ...] = PRODUCTION_NETWORKS
    """How each chain is shown and read: name, explorer, tokens, multicall (JSON list of objects). The shipped ones
    (Ethereum, OP Mainnet, Arbitrum One, Base) carry no RPC URL: nothing is called until the operator sets one."""

    demo_networks: tuple[Network, ...] = DEMO_NETWORKS
    """The local anvil chains of demo mode (L1 31337 on :8545, L2 31338 on :8546), started by make run/dev."""

    chain_rpc_timeout: timedelta = timedelta(seconds=5)
    """How long one JSON-RPC request to a chain may take before the chain counts as unavailable (no retries)."""

    activity_blocks: int = Field(default=10_000, gt=0)
    """How far back the home page looks for token transfers and approvals (`eth_getLogs`), in blocks from the
    latest: older activity and allowances granted before it are not shown."""

    log_chunk_blocks: int = Field(default=2_000, gt=0)
    """Blocks per `eth_getLogs` request (providers cap ranges at 1k–10k); halved when the provider refuses."""

    log_chunk_min_blocks: int = Field(default=50, gt=0)
    """The smallest chunk halving goes down to; a chain refusing even this is shown as an error."""

    native_scan_blocks: int = Field(default=200, gt=0)
    """Latest blocks read with their transactions for native transfers on test and local chains (they have no
    explorer API); production chains use `Network.explorer_api_url` when set."""

    activity_limit: int = Field(default=20, gt=0)
    """Recent-activity items shown (newest first, all chains together); the log scan stops once it has this many."""

    siwe_statement: str = "Sign in to Fuzzy Dice with this wallet."
    """The human-readable statement of the Sign-In-With-Ethereum message."""

    check_api_enabled: bool = True
    """Whether `/api/check` answers at all."""

    check_api_per_minute: int = 30
    """`/api/check` requests per minute per IP."""

    cleanup_interval: timedelta = timedelta(minutes=10)
    """How often expired rows are removed."""

    audit_retention: timedelta = timedelta(days=365)
    """How long audit entries are kept."""
    outbox_retention: timedelta = timedelta(days=7)
    """How long the demo outbox keeps its messages (they hold codes meant for one person)."""

    # --- demo faucet and play sessions ------------------------------------
    faucet_native_amount: Decimal = Decimal("1")
    """Native coin (ETH) the demo faucet sends per grant, in whole coins."""

    faucet_token_amount: Decimal = Decimal("1000")
    """Whole tokens of each configured test token the demo faucet sends per grant."""

    faucet_period: timedelta = timedelta(days=1)
    """The faucet serves an address once per chain per period: fixed periods from 00:00 UTC (a day by default)."""

    faucet_grants_per_user: int = 4
    """Grants one account may take per period, all its wallets and chains together (two wallets on both local
    chains), so an account with many linked wallets cannot drain the faucet."""

    faucet_send_timeout: timedelta = timedelta(seconds=30)
    """How long the faucet waits for its transfers to be mined before it gives up and gives the grant back."""

    play_lengths: tuple[int, ...] = (15, 30, 60)
    """Lengths in minutes a play session may be started with (/launch offers these)."""

    play_spending_limit_max: Decimal = Decimal("1000000")
    """The largest spending limit (in whole native coins) a play session records; larger input is refused."""

    play_starts_per_window: int = 20
    """Play sessions one account may start within `play_starts_window` (each is a row and an audit entry: a
    start/end loop must not fill the tables)."""

    play_starts_window: timedelta = timedelta(hours=1)
    """Window of `play_starts_per_window`."""

    @field_validator("public_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @property
    def active_networks(self) -> tuple[Network, ...]:
        """The networks in force, each with its RPC URL (see `chains`)."""
        described = (*self.demo_networks, *self.networks) if self.is_demo else (*self.networks, *self.demo_networks)
        fallback = self.demo_networks if self.is_demo else self.networks
        return resolve_networks(chains=self.chains, described=described, fallback=fallback)

    def network(self, chain_id: int) -> Network | None:
        """The network in force with this chain id, or None."""
        return next((network for network in self.active_networks if network.chain_id == chain_id), None)

    def network_name(self, chain_id: int) -> str:
        """A chain's name in words: as configured (in force or not), else "chain N"."""
        for network in (*self.active_networks, *self.networks, *self.demo_networks):
            if network.chain_id == chain_id:
                return network.name
        return f"chain {chain_id}"

    @property
    def allowed_chains(self) -> dict[int, str]:
        """The chain allow-list in force: chain id → RPC URL of each active network."""
        return {network.chain_id: network.rpc_url for network in self.active_networks if network.rpc_url}

    @property
    def is_demo(self) -> bool:
        """Whether this deployment runs in demo mode."""
        return self.mode == "demo"

    def session_lifetimes(self, remember: bool) -> tuple[timedelta, timedelta]:
        """Return (idle, absolute) lifetimes for a session."""
        if remember:
            return self.remember_idle, self.remember_absolute
        return self.session_idle, self.session_absolute


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
