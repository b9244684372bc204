"""`GET /api/check`: design 000's answer, a 400 for a malformed address, the per-IP limit, the switch."""

from __future__ import annotations

from datetime import timedelta

from eth_account import Account
from fastapi.testclient import TestClient

from fuzzydice.api.app import create_api
from fuzzydice.auth import identity_rows
from fuzzydice.models import User
from tests.mfa.conftest import enrol


def client() -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def add_wallet_user(services, address: str, *, enrolled: bool) -> None:
    """An account holding the wallet; `enrolled`: with an authenticator, enrolled through the real flows."""
    now = services.clock.now()
    with services.db() as session:
        user = User(name="w", created_at=now)
        session.add(user)
        session.flush()
        identity_rows.add_wallet(session, user_id=user.id, address=address, now=now)
        session.commit()
        user_id = user.id
    if enrolled:
        enrol(services, user_id)


def test_known_and_unknown_addresses(api_services) -> None:
    known = Account.create().address
    add_wallet_user(api_services, known, enrolled=True)
    answer = client().get("/api/check", params={"address": known.lower()})
    assert answer.status_code == 200
    assert answer.json() == {"result": True, "data": {"address": known, "second_factor": True}}
    assert client().get("/api/check", params={"address": Account.create().address}).json() == {
        "result": False,
        "data": None,
    }
    bare = Account.create().address
    add_wallet_user(api_services, bare, enrolled=False)
    assert client().get("/api/check", params={"address": bare}).json() == {
        "result": True,
        "data": {"address": bare, "second_factor": False},
    }


def test_malformed_address_is_a_400_with_the_reason(api_services) -> None:
    for bad in ("", "0x12", "hello", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756cC2"):
        answer = client().get("/api/check", params={"address": bad})
        assert answer.status_code == 400, bad
        assert answer.json()["result"] is False and answer.json()["error"]


def test_limited_per_ip(api_services) -> None:
    api_services.settings.check_api_per_minute = 3
    address = Account.create().address
    statuses = [client().get("/api/check", params={"address": address}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    api_services.clock.advance(timedelta(minutes=1))
    assert client().get("/api/check", params={"address": address}).status_code == 200


def test_can_be_switched_off(api_services) -> None:
    api_services.settings.check_api_enabled = False
    assert client().get("/api/check", params={"address": Account.create().address}).status_code == 404
