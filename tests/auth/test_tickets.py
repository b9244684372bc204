"""Claim tickets: single use, 60 s lifetime, bound to one browser, burned on any failure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import run_in_parallel
from fuzzydice.auth import tickets
from fuzzydice.auth.sessions import FIRST_FACTOR
from fuzzydice.auth.tokens import new_token, token_hash
from fuzzydice.clock import FixedClock
from fuzzydice.models import ClaimTicket
from fuzzydice.services import Services


@pytest.fixture
def user_id(make_user: Callable[..., int]) -> int:
    return make_user("linus@example.com")


@pytest.fixture
def issue(services: Services, clock: FixedClock, user_id: int) -> Callable[..., tickets.IssuedTicket]:
    def make(**overrides) -> tickets.IssuedTicket:
        values = dict(
            user_id=user_id, factor_level=FIRST_FACTOR, remember=True, next_path="/user/home", replaces_token=None,
            tab=TAB,
        )
        values.update(overrides)
        with services.db() as session:
            return tickets.issue_ticket(session, now=clock.now(), settings=services.settings, **values)

    return make


TAB = "tab-that-asked"


def redeem(services: Services, ticket: str, bind: str | None, tab: str | None = TAB) -> tickets.RedeemedTicket | None:
    with services.db() as session:
        return tickets.redeem_ticket(session, ticket, bind, tab, services.clock.now())


def ticket_count(services: Services) -> int:
    with services.db() as session:
        return session.execute(sa.select(sa.func.count()).select_from(ClaimTicket)).scalar_one()


def test_redeem_returns_what_was_granted(services: Services, issue, user_id: int) -> None:
    old = new_token()
    issued = issue(replaces_token=old)
    granted = redeem(services, issued.ticket, issued.bind)
    assert granted == tickets.RedeemedTicket(
        user_id=user_id, factor_level=FIRST_FACTOR, remember=True, next_path="/user/home",
        replaces_token_hash=token_hash(old),
    )


def test_only_hashes_are_stored(services: Services, issue) -> None:
    issued = issue()
    assert issued.ticket != issued.bind and len(issued.ticket) >= 43 and len(issued.bind) >= 43
    with services.db() as session:
        row = session.execute(sa.select(ClaimTicket)).scalar_one()
    assert row.ticket_hash == token_hash(issued.ticket)
    assert row.bind_hash == token_hash(issued.bind)
    assert row.tab_hash == token_hash(TAB)
    assert issued.ticket not in str(row.model_dump()) and issued.bind not in str(row.model_dump())


@pytest.mark.parametrize("tab", [None, "", "another-tab"])
def test_only_the_tab_that_asked_redeems_it_and_a_wrong_tab_burns_it(services: Services, issue, tab) -> None:
    issued = issue()
    assert redeem(services, issued.ticket, issued.bind, tab) is None
    assert redeem(services, issued.ticket, issued.bind) is None  # burned
    assert ticket_count(services) == 0


def test_each_ticket_names_its_own_bind_cookie(issue) -> None:
    tags = {issue().tag for _ in range(5)}
    assert len(tags) == 5 and all(tickets.TAG_PATTERN.match(tag) for tag in tags)


def test_single_use(services: Services, issue) -> None:
    issued = issue()
    assert redeem(services, issued.ticket, issued.bind) is not None
    assert redeem(services, issued.ticket, issued.bind) is None
    assert ticket_count(services) == 0


def test_valid_for_59_seconds(services: Services, issue, clock: FixedClock) -> None:
    issued = issue()
    clock.advance(59)
    assert redeem(services, issued.ticket, issued.bind) is not None


def test_refused_at_60_seconds(services: Services, issue, clock: FixedClock) -> None:
    issued = issue()
    clock.advance(60)
    assert redeem(services, issued.ticket, issued.bind) is None
    assert ticket_count(services) == 0


@pytest.mark.parametrize("bind", [None, "", "wrong-bind-value"])
def test_wrong_or_missing_bind_refuses_and_burns_the_ticket(services: Services, issue, bind) -> None:
    issued = issue()
    assert redeem(services, issued.ticket, bind) is None
    assert ticket_count(services) == 0
    # The right bind value afterwards is too late: the ticket is gone.
    assert redeem(services, issued.ticket, issued.bind) is None


def test_another_browsers_bind_does_not_fit(services: Services, issue) -> None:
    mine, theirs = issue(), issue()
    assert redeem(services, mine.ticket, theirs.bind) is None
    assert redeem(services, theirs.ticket, theirs.bind) is not None


def test_unknown_or_empty_ticket(services: Services, issue) -> None:
    issued = issue()
    assert redeem(services, "", issued.bind) is None
    assert redeem(services, new_token(), issued.bind) is None
    assert ticket_count(services) == 1  # an unknown ticket burns nothing else


def test_parallel_redeems_succeed_once(services: Services, issue) -> None:
    issued = issue()
    workers = 10

    def redeem_once():
        with services.db() as session:
            return tickets.redeem_ticket(session, issued.ticket, issued.bind, TAB, services.clock.now())

    results = run_in_parallel(redeem_once, workers)
    assert sum(result is not None for result in results) == 1


def test_delete_expired_tickets(services: Services, issue, clock: FixedClock) -> None:
    issue()
    clock.advance(30)
    fresh = issue()
    clock.advance(timedelta(seconds=30))
    with services.db() as session:
        assert tickets.delete_expired_tickets(session, clock.now()) == 1
    assert redeem(services, fresh.ticket, fresh.bind) is not None
