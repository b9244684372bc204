"""Play sessions: start, one at a time, end by the owner only, expiry at its time (pinned clock), history, inputs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fuzzydice import audit
from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID
from fuzzydice.maintenance import delete_expired_rows
from fuzzydice.models import PlaySession as PlayRow
from fuzzydice.outcome import Code
from fuzzydice.play.sessions import current_play, end_play, play_history, start_play
from fuzzydice.ui.messages import field_messages, say
from tests.funding_fixtures import with_settings


def start(services, user_id, chain_id=DEMO_L1_CHAIN_ID, minutes=15, limit="0.5"):
    return start_play(services, user_id, chain_id, minutes, limit)


def running_slot(services, play_id):
    with services.db() as session:
        return session.execute(sa.select(PlayRow.running_user_id).where(PlayRow.id == play_id)).scalar_one()


def actions(services, user_id):
    return [(e.action, e.details.get("reason")) for e in audit.events(services, user_id)]


def test_a_started_session_runs_with_its_choices_and_its_time_left(services, clock, make_user):
    user_id = make_user()
    started = start(services, user_id, DEMO_L2_CHAIN_ID, 30, "0.50")
    assert started.ok, started
    play = started.value
    assert (play.chain_id, play.minutes, play.spending_limit, play.symbol) == (DEMO_L2_CHAIN_ID, 30, Decimal("0.5"), "ETH")
    assert play.started_at == clock.now() and play.ends_at == clock.now() + timedelta(minutes=30)
    assert play.running and play.end_reason is None

    clock.advance(timedelta(minutes=10))
    now_running = current_play(services, user_id)
    assert now_running == play
    assert now_running.time_left(clock.now()) == timedelta(minutes=20)
    assert actions(services, user_id)[0] == ("play_started", None)
    assert audit.events(services, user_id)[0].details == {
        "play_id": play.id, "chain_id": DEMO_L2_CHAIN_ID, "minutes": 30, "spending_limit": "0.5", "symbol": "ETH",
    }


def test_a_second_start_while_one_runs_is_refused_and_says_so(services, make_user):
    user_id = make_user()
    first = start(services, user_id).value
    second = start(services, user_id, DEMO_L2_CHAIN_ID, 60, "1")
    assert not second.ok and second.code == Code.PLAY_RUNNING and second.detail == str(first.id)
    assert "already running" in say(second)
    assert [p.id for p in play_history(services, user_id)] == [first.id]


def test_each_account_runs_its_own(services, make_user):
    assert start(services, make_user()).ok
    assert start(services, make_user()).ok


def test_the_owner_ends_it_and_may_start_another(services, clock, make_user):
    user_id = make_user()
    play = start(services, user_id).value
    clock.advance(timedelta(minutes=3))
    ended = end_play(services, user_id, play.id)
    assert ended.ok and not ended.value.running
    assert (ended.value.ended_at, ended.value.end_reason) == (clock.now(), "user")
    assert ended.value.time_left(clock.now()) == timedelta(0)
    assert current_play(services, user_id) is None
    assert running_slot(services, play.id) is None

    clock.advance(timedelta(minutes=1))
    again = end_play(services, user_id, play.id)  # idempotent: answered as it is, not ended twice
    assert again.ok and again.value == ended.value
    assert actions(services, user_id)[:2] == [("play_ended", "user"), ("play_started", None)]

    assert start(services, user_id).ok


def test_another_account_cannot_end_my_session(services, make_user):
    owner, other = make_user(), make_user()
    play = start(services, owner).value
    for attempt in (play.id, play.id + 1000, "1", None, True):
        refused = end_play(services, other, attempt)
        assert not refused.ok and refused.code == Code.PLAY_NOT_FOUND
    assert current_play(services, owner) == play
    assert play_history(services, other) == []
    assert [a for a, _ in actions(services, other) if a.startswith("play")] == []


def test_a_session_past_its_time_has_ended_before_the_cleanup_runs(services, clock, make_user):
    user_id = make_user()
    play = start(services, user_id, minutes=15).value
    clock.advance(timedelta(minutes=15) - timedelta(seconds=1))
    assert current_play(services, user_id) is not None
    clock.advance(timedelta(seconds=1))  # exactly at ends_at: over
    assert current_play(services, user_id) is None
    [seen] = play_history(services, user_id)
    assert (seen.running, seen.ended_at, seen.end_reason) == (False, play.ends_at, "expired")

    # The user ending it now changes nothing: it ran out by itself.
    ended = end_play(services, user_id, play.id)
    assert ended.ok and (ended.value.ended_at, ended.value.end_reason) == (play.ends_at, "expired")
    assert start(services, user_id).ok


def test_a_start_after_expiry_frees_the_slot_itself(services, clock, make_user):
    user_id = make_user()
    first = start(services, user_id).value
    clock.advance(timedelta(minutes=16))
    second = start(services, user_id)  # no cleanup ran: the start ends the old one itself
    assert second.ok, second
    assert running_slot(services, first.id) is None and running_slot(services, second.value.id) == user_id
    assert ("play_ended", "expired") in actions(services, user_id)


def test_the_cleanup_ends_sessions_at_their_time(services, clock, make_user):
    short, long_ = make_user(), make_user()
    ending = start(services, short, minutes=15).value
    start(services, long_, minutes=60)
    assert delete_expired_rows(services)["play_sessions"] == 0

    clock.advance(timedelta(minutes=15))
    assert delete_expired_rows(services)["play_sessions"] == 1
    assert running_slot(services, ending.id) is None
    with services.db() as session:
        row = session.execute(sa.select(PlayRow).where(PlayRow.id == ending.id)).scalar_one()
    assert (row.ended_at, row.end_reason) == (ending.ends_at, "expired")
    assert actions(services, short)[0] == ("play_ended", "expired")
    assert current_play(services, long_) is not None
    assert delete_expired_rows(services)["play_sessions"] == 0

    clock.advance(timedelta(minutes=45))
    assert delete_expired_rows(services)["play_sessions"] == 1
    assert current_play(services, long_) is None


def test_history_is_newest_first_and_bounded(services, clock, make_user):
    user_id = make_user()
    ids = []
    for _ in range(3):
        play = start(services, user_id).value
        ids.append(play.id)
        clock.advance(timedelta(minutes=1))
        assert end_play(services, user_id, play.id).ok
    running = start(services, user_id).value
    history = play_history(services, user_id)
    assert [p.id for p in history] == [running.id, *reversed(ids)]
    assert [p.running for p in history] == [True, False, False, False]
    assert [p.id for p in play_history(services, user_id, limit=2)] == [running.id, ids[-1]]
    assert len(play_history(services, user_id, limit=0)) == 1


@pytest.mark.parametrize(
    ("chain_id", "minutes", "limit", "expected"),
    [
        (1, 15, "1", {"chain_id": "Choose one of the networks offered."}),
        ("31337", 15, "1", None),
        (None, 15, "1", {"chain_id": "Choose one of the networks offered."}),
        (DEMO_L1_CHAIN_ID, 20, "1", {"minutes": "Choose a length of 15, 30 or 60 minutes."}),
        (DEMO_L1_CHAIN_ID, "30", "1", None),
        (DEMO_L1_CHAIN_ID, True, "1", {"minutes": "Choose a length of 15, 30 or 60 minutes."}),
        (DEMO_L1_CHAIN_ID, "15.0", "1", {"minutes": "Choose a length of 15, 30 or 60 minutes."}),
        (DEMO_L1_CHAIN_ID, 15, "", {"spending_limit": "Enter a spending limit."}),
        (DEMO_L1_CHAIN_ID, 15, None, {"spending_limit": "Enter a spending limit."}),
        (DEMO_L1_CHAIN_ID, 15, "abc", {"spending_limit": "Enter a number, like 0.5."}),
        (DEMO_L1_CHAIN_ID, 15, "NaN", {"spending_limit": "Enter a number, like 0.5."}),
        (DEMO_L1_CHAIN_ID, 15, "Infinity", {"spending_limit": "Enter a number, like 0.5."}),
        (DEMO_L1_CHAIN_ID, 15, "1_000", {"spending_limit": "Enter a number, like 0.5."}),
        (DEMO_L1_CHAIN_ID, 15, "1" * 81, {"spending_limit": "Enter a number, like 0.5."}),
        (DEMO_L1_CHAIN_ID, 15, 0.5, {"spending_limit": "Enter a number, like 0.5."}),
        (DEMO_L1_CHAIN_ID, 15, "-0.1", {"spending_limit": "The spending limit cannot be negative."}),
        (DEMO_L1_CHAIN_ID, 15, "0." + "1" * 19, {"spending_limit": "Use at most 18 decimal places."}),
        (DEMO_L1_CHAIN_ID, 15, "1e-19", {"spending_limit": "Use at most 18 decimal places."}),
        (DEMO_L1_CHAIN_ID, 15, "1000001", {"spending_limit": "Enter at most 1000000 ETH."}),
        (DEMO_L1_CHAIN_ID, 15, "1e999999", {"spending_limit": "Enter at most 1000000 ETH."}),
        (1, 20, "-1", {
            "chain_id": "Choose one of the networks offered.",
            "minutes": "Choose a length of 15, 30 or 60 minutes.",
            "spending_limit": "The spending limit cannot be negative.",
        }),
    ],
)
def test_bad_input_is_answered_field_by_field(services, make_user, chain_id, minutes, limit, expected):
    user_id = make_user()
    outcome = start_play(services, user_id, chain_id, minutes, limit)
    if expected is None:
        assert outcome.ok, outcome
        return
    assert not outcome.ok and outcome.code == Code.INVALID_INPUT
    assert field_messages(outcome) == expected
    assert play_history(services, user_id) == []


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("0", "0"), ("0.000", "0"), ("1000", "1000"), ("1e3", "1000"), (" 2.50 ", "2.5"), (7, "7"),
     (Decimal("0.000000000000000001"), "0.000000000000000001"), ("1000000", "1000000")],
)
def test_the_spending_limit_is_kept_as_plain_decimal_text(services, make_user, typed, kept):
    user_id = make_user()
    play = start(services, user_id, limit=typed).value
    with services.db() as session:
        stored = session.execute(sa.select(PlayRow.spending_limit).where(PlayRow.id == play.id)).scalar_one()
    assert stored == kept and play.spending_limit == Decimal(kept)


def test_the_lengths_and_the_largest_limit_come_from_settings(services, make_user):
    user_id = make_user()
    custom = with_settings(services, play_lengths=(5,), play_spending_limit_max=Decimal("2"))
    refused = start_play(custom, user_id, DEMO_L1_CHAIN_ID, 15, "3")
    assert field_messages(refused) == {"minutes": "Choose a length of 5 minutes.", "spending_limit": "Enter at most 2 ETH."}
    assert start_play(custom, user_id, DEMO_L1_CHAIN_ID, 5, "2").ok


def test_a_chain_not_in_force_is_refused(services, make_user):
    user_id = make_user()
    # Only the L2 is in force: the L1 is a known network, but not one sessions may start on.
    only_l2 = with_settings(services, chains={DEMO_L2_CHAIN_ID: "http://127.0.0.1:1"})
    assert start_play(only_l2, user_id, DEMO_L1_CHAIN_ID, 15, "1").fields.keys() == {"chain_id"}
    assert start_play(only_l2, user_id, DEMO_L2_CHAIN_ID, 15, "1").ok
