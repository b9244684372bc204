"""The countdown's text and script (the browser side runs in tests/e2e/test_launch.py)."""

from __future__ import annotations

from datetime import timedelta

from fuzzydice.ui import countdown


def test_clock_text_rounds_up_to_whole_seconds_and_shows_hours_only_when_needed():
    assert countdown.clock_text(timedelta(minutes=15)) == "15:00"
    assert countdown.clock_text(timedelta(minutes=14, seconds=59, milliseconds=1)) == "15:00"
    assert countdown.clock_text(timedelta(seconds=5)) == "0:05"
    assert countdown.clock_text(timedelta(milliseconds=1)) == "0:01"
    assert countdown.clock_text(timedelta(0)) == "0:00"
    assert countdown.clock_text(timedelta(seconds=-3)) == "0:00"
    assert countdown.clock_text(timedelta(hours=1)) == "1:00:00"
    assert countdown.clock_text(timedelta(hours=1, seconds=61)) == "1:01:01"


def test_the_script_counts_what_the_server_says_is_left_not_the_browser_clock():
    script = countdown.countdown_script("play-time-left", timedelta(minutes=2, milliseconds=500), resync_ms=60_000)
    # A monotonic clock from now, never the browser's date or an absolute time.
    assert "const start = performance.now(); const deadline = start + 120500;" in script
    assert "Date" not in script
    assert "const resyncAt = start + 60000;" in script
    assert '"play-time-left"' in script
    for reason in countdown.REASONS:
        assert f'"{reason}"' in script


def test_a_negative_time_left_counts_from_zero():
    assert "const deadline = start + 0;" in countdown.countdown_script("x", timedelta(seconds=-5), resync_ms=1000)
