"""Schedule arithmetic across daylight-saving changes, and APScheduler's trigger agreeing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.schedule import WeeklySchedule

NEW_YORK = WeeklySchedule.parse("tue 09:00", "America/New_York")


@pytest.mark.parametrize(
    ("week", "utc_hour"),
    [
        ("2026-W44", 13),  # Tue 27 Oct 2026: EDT, UTC-4
        ("2026-W45", 14),  # Tue 3 Nov 2026: EST, UTC-5 (DST ended Sun 1 Nov)
        ("2026-W10", 14),  # Tue 3 Mar 2026: EST
        ("2026-W11", 13),  # Tue 10 Mar 2026: EDT (DST began Sun 8 Mar)
    ],
)
def test_send_time_stays_at_nine_local_across_dst(week: str, utc_hour: int) -> None:
    due = NEW_YORK.send_time(week)
    assert due.tzinfo is UTC
    assert due.hour == utc_hour and due.minute == 0
    local = due.astimezone(NEW_YORK.zone)
    assert (local.weekday(), local.hour, local.minute) == (1, 9, 0)


def test_apscheduler_trigger_fires_at_the_same_instants_across_dst() -> None:
    trigger = NEW_YORK.trigger()
    moment = datetime(2026, 10, 20, tzinfo=UTC)
    fires = []
    previous = None
    for _ in range(4):
        fire = trigger.get_next_fire_time(previous, moment)
        assert fire is not None
        fires.append(fire.astimezone(UTC))
        previous, moment = fire, fire
    assert [f.hour for f in fires] == [13, 13, 14, 14]  # 20 Oct, 27 Oct, 3 Nov, 10 Nov
    assert fires[2] == NEW_YORK.send_time("2026-W45")


def test_previous_and_next_send_bracket_now() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # Wednesday
    assert NEW_YORK.previous_send(now) == NEW_YORK.send_time("2026-W48")
    assert NEW_YORK.next_send(now) == NEW_YORK.send_time("2026-W49")
    exactly = NEW_YORK.send_time("2026-W48")
    assert NEW_YORK.previous_send(exactly) == exactly
    assert NEW_YORK.next_send(exactly) == NEW_YORK.send_time("2026-W49")


def test_week_is_taken_in_the_newsletter_time_zone() -> None:
    # 03:00 UTC on Monday 30 Nov is still Sunday 29 Nov in New York: week 48.
    assert NEW_YORK.week_at(datetime(2026, 11, 30, 3, tzinfo=UTC)) == "2026-W48"
