"""Route classes of the pages (pure python; the guard decides access from these)."""

from __future__ import annotations

from fuzzydice.journey import Step, StepKind

import pytest

from fuzzydice.auth.sessions import FIRST_FACTOR
from fuzzydice.ui import routes


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("/user/home/", "/user/home"),
        ("/user/home?x=1", "/user/home"),
        ("/user/home/#top", "/user/home"),
        ("/", "/"),
        ("", "/"),
        ("///", "/"),
        ("/login/?next=/user/home", "/login"),
    ],
)
def test_normalize_path(raw: str, normalized: str) -> None:
    assert routes.normalize_path(raw) == normalized


@pytest.mark.parametrize("path", ["/", "/login", "/login/", "/register", "/register?next=/x", "/login/connect"])
def test_public_routes(path: str) -> None:
    assert routes.route_class(path) == "public"
    assert routes.required_level("public") == 0


@pytest.mark.parametrize("path", ["/login/scan", "/login/verify/"])
def test_pending_routes(path: str) -> None:
    assert routes.route_class(path) == "pending"


@pytest.mark.parametrize("path", ["/user/home", "/user/home/", "/user/anything", "/admin", "/login/other", "/LOGIN"])
def test_everything_else_is_a_full_page(path: str) -> None:
    assert routes.route_class(path) == "full"
    assert routes.required_level("full") >= FIRST_FACTOR


def test_only_public_pages_need_no_session() -> None:
    assert routes.required_level("public") == 0
    assert routes.required_level("pending") >= FIRST_FACTOR
    assert routes.required_level("full") >= routes.required_level("pending")


CODE_STEP = Step(StepKind.SECOND_FACTOR, ("totp", "backup_codes"))
ENROL_STEP = Step(StepKind.ENROL, ("totp",))


def _info(level: int, *, enrolled: bool = True, codes_pending: bool = False):
    from datetime import datetime, timezone

    from fuzzydice.auth.sessions import SessionInfo

    return SessionInfo(
        session_id=1,
        user_id=1,
        factor_level=level,
        user_name="Ada",
        user_email="ada@example.com",
        last_sign_in_at=None,
        absolute_expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
        backup_codes_pending=codes_pending,
        factors=frozenset({"totp", "backup_codes"}) if enrolled else frozenset(),
        first_factor="password",
    )


def test_full_pages_demand_the_second_factor() -> None:
    from fuzzydice.auth.sessions import FULL

    assert routes.required_level("full") == FULL
    # No session: sign in, coming back here afterwards.
    assert routes.where_to(None, "/user/home") == "/login?next=/user/home"
    assert routes.where_to(None, "/login/verify") == "/login?next=/login/verify"
    assert routes.where_to(None, "/login/verify", pending_expired=True) == "/login?expired=1"
    # First factor only: enrolment or the code page, keeping where the user was going.
    assert routes.where_to(_info(FIRST_FACTOR, enrolled=False), "/user/home") == "/login/scan?next=/user/home"
    assert routes.where_to(_info(FIRST_FACTOR), "/user/home/") == "/login/verify?next=/user/home"
    assert routes.where_to(_info(FIRST_FACTOR), "/login/backup-codes") == "/login/verify?next=/login/backup-codes"
    # Enrolment uses both pending pages; an enrolled user never sees the secret page again.
    assert routes.where_to(_info(FIRST_FACTOR, enrolled=False), "/login/scan") is None
    assert routes.where_to(_info(FIRST_FACTOR, enrolled=False), "/login/verify") is None
    assert routes.where_to(_info(FIRST_FACTOR), "/login/scan") == "/login/verify"
    assert routes.where_to(_info(FIRST_FACTOR), "/login/verify") is None
    # Both factors: fresh backup codes first, then the pending pages are done with.
    assert routes.where_to(_info(FULL, codes_pending=True), "/user/home") == "/login/backup-codes"
    assert routes.where_to(_info(FULL, codes_pending=True), "/login/backup-codes") is None
    assert routes.where_to(_info(FULL), "/login/backup-codes") == "/user/home"
    assert routes.where_to(_info(FULL), "/login/scan") == "/user/home"
    assert routes.where_to(_info(FULL), "/user/home") is None
    for public in ("/", "/login", "/register", "/login/connect"):
        assert routes.where_to(None, public) is None
        assert routes.where_to(_info(FIRST_FACTOR), public) is None


def test_where_to_go_after_the_password() -> None:
    assert routes.second_step_after_password(CODE_STEP, None) == "/login/verify"
    assert routes.second_step_after_password(ENROL_STEP, "/user/wallet") == "/login/scan?next=/user/wallet"
    for not_a_destination in ("//evil.example", "https://evil.example/x", "/login", "/login/verify", "/login/backup-codes"):
        assert routes.second_step_after_password(CODE_STEP, not_a_destination) == "/login/verify", not_a_destination
