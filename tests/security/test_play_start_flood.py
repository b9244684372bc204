"""A signed-in account looping start/end cannot fill the play-session table and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID
from fuzzydice.models import PlaySession as PlayRow
from fuzzydice.outcome import Code
from fuzzydice.play.sessions import end_play, start_play
from fuzzydice.ui.messages import say
from tests.funding_fixtures import with_settings


def rows_of(services, user_id) -> int:
    with services.db() as session:
        return session.execute(sa.select(sa.func.count()).where(PlayRow.user_id == user_id)).scalar_one()


def test_start_and_end_in_a_loop_stops_at_the_limit_and_says_when_to_come_back(services, clock, make_user):
    services = with_settings(services, play_starts_per_window=5, play_starts_window=timedelta(hours=1))
    user_id = make_user()
    for _ in range(5):
        started = start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "0")
        assert started.ok, started
        assert end_play(services, user_id, started.value.id).ok
    refused = start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "0")
    assert refused.code == Code.RATE_LIMITED and refused.retry_at is not None
    assert "Try again in" in say(refused, services.settings, now=clock.now())
    for _ in range(20):  # the flood goes on: nothing more is written
        assert start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "0").code == Code.RATE_LIMITED
    assert rows_of(services, user_id) == 5

    other = make_user()  # the limit is per account
    assert start_play(services, other, DEMO_L1_CHAIN_ID, 15, "0").ok

    clock.advance(timedelta(hours=1))
    assert start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "0").ok
