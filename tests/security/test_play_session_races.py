"""Play sessions under racing requests: one account runs one session, however many starts or ends race."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from fuzzydice import audit
from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID
from fuzzydice.models import PlaySession as PlayRow
from fuzzydice.outcome import Code
from fuzzydice.play.sessions import current_play, end_play, start_play
from tests.conftest import run_in_parallel


def rows_of(services, user_id):
    with services.db() as session:
        return session.execute(sa.select(PlayRow).where(PlayRow.user_id == user_id)).scalars().all()


def test_parallel_starts_make_exactly_one_session(services, make_user):
    user_id = make_user()
    results = run_in_parallel(lambda: start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "1"), workers=12)
    started = [r for r in results if r.ok]
    assert len(started) == 1
    assert {r.code for r in results if not r.ok} == {Code.PLAY_RUNNING}
    assert len(rows_of(services, user_id)) == 1
    assert current_play(services, user_id) == started[0].value
    assert [e.action for e in audit.events(services, user_id)].count("play_started") == 1


def test_parallel_starts_after_expiry_make_exactly_one_new_session(services, clock, make_user):
    user_id = make_user()
    old = start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "1").value
    clock.advance(timedelta(minutes=15))
    results = run_in_parallel(lambda: start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "1"), workers=12)
    assert sum(r.ok for r in results) == 1
    ended = [e for e in audit.events(services, user_id) if e.action == "play_ended"]
    assert [e.details["play_id"] for e in ended] == [old.id]  # expired once, not once per racing start
    assert sum(row.running_user_id is not None for row in rows_of(services, user_id)) == 1


def test_parallel_ends_end_it_once(services, make_user):
    user_id = make_user()
    play = start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "1").value
    results = run_in_parallel(lambda: end_play(services, user_id, play.id), workers=12)
    assert all(r.ok and r.value.end_reason == "user" for r in results)
    assert len({r.value.ended_at for r in results}) == 1
    assert [e.action for e in audit.events(services, user_id)].count("play_ended") == 1


def test_a_stranger_cannot_end_or_see_a_session_by_guessing_ids(services, make_user):
    owner, stranger = make_user(), make_user()
    play = start_play(services, owner, DEMO_L1_CHAIN_ID, 15, "1").value
    for guess in range(play.id - 2, play.id + 3):
        refused = end_play(services, stranger, guess)
        assert not refused.ok and refused.code == Code.PLAY_NOT_FOUND
    assert current_play(services, owner) == play
    assert current_play(services, stranger) is None
