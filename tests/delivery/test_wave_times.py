"""Local-time sending's clock: each zone's wave at the exact UTC instant, across DST changes.

Every expected instant below is worked out by hand from the zones' published rules (US:
second Sunday of March to first Sunday of November; EU: last Sunday of March to last Sunday
of October; New Zealand: last Sunday of September to first Sunday of April; Lord Howe: a
30-minute change, first Sunday of October to first Sunday of April), not by the code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import load_settings
from pipeline.delivery.waves import WavePlan, local_instant, start_of_waves
from pipeline.errors import ConfigError
from pipeline.schedule import WeeklySchedule
from pipeline.weeks import week_key

NINE = time(9, 0)
ZONES = (
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "Australia/Lord_Howe",
    None,  # no zone given: the list's own (America/New_York here)
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# send day → the UTC instant of 09:00 local, zone by zone (ZONES' order).
EXPECTED = {
    # 2026: before the US change (Mar 8); NZ and Lord Howe in summer time.
    date(2026, 3, 3): (
        utc(2026, 3, 3, 17),
        utc(2026, 3, 3, 9),
        utc(2026, 3, 3, 3, 30),
        utc(2026, 3, 2, 20),
        utc(2026, 3, 2, 22),
        utc(2026, 3, 3, 14),
    ),
    # After the US change, before the EU one (Mar 29): LA and New York an hour earlier.
    date(2026, 3, 10): (
        utc(2026, 3, 10, 16),
        utc(2026, 3, 10, 9),
        utc(2026, 3, 10, 3, 30),
        utc(2026, 3, 9, 20),
        utc(2026, 3, 9, 22),
        utc(2026, 3, 10, 13),
    ),
    # After the EU change: London on BST.
    date(2026, 3, 31): (
        utc(2026, 3, 31, 16),
        utc(2026, 3, 31, 8),
        utc(2026, 3, 31, 3, 30),
        utc(2026, 3, 30, 20),
        utc(2026, 3, 30, 22),
        utc(2026, 3, 31, 13),
    ),
    # After NZ and Lord Howe leave summer time (Apr 5): +12 and +10:30.
    date(2026, 4, 7): (
        utc(2026, 4, 7, 16),
        utc(2026, 4, 7, 8),
        utc(2026, 4, 7, 3, 30),
        utc(2026, 4, 6, 21),
        utc(2026, 4, 6, 22, 30),
        utc(2026, 4, 7, 13),
    ),
    # After the EU change back (Oct 25), before the US one (Nov 1); the south in summer time.
    date(2026, 10, 27): (
        utc(2026, 10, 27, 16),
        utc(2026, 10, 27, 9),
        utc(2026, 10, 27, 3, 30),
        utc(2026, 10, 26, 20),
        utc(2026, 10, 26, 22),
        utc(2026, 10, 27, 13),
    ),
    # After the US change back.
    date(2026, 11, 3): (
        utc(2026, 11, 3, 17),
        utc(2026, 11, 3, 9),
        utc(2026, 11, 3, 3, 30),
        utc(2026, 11, 2, 20),
        utc(2026, 11, 2, 22),
        utc(2026, 11, 3, 14),
    ),
    # 2027: the US changes on Mar 14, the EU on Mar 28; back on Oct 31 and Nov 7.
    date(2027, 3, 9): (
        utc(2027, 3, 9, 17),
        utc(2027, 3, 9, 9),
        utc(2027, 3, 9, 3, 30),
        utc(2027, 3, 8, 20),
        utc(2027, 3, 8, 22),
        utc(2027, 3, 9, 14),
    ),
    date(2027, 3, 16): (
        utc(2027, 3, 16, 16),
        utc(2027, 3, 16, 9),
        utc(2027, 3, 16, 3, 30),
        utc(2027, 3, 15, 20),
        utc(2027, 3, 15, 22),
        utc(2027, 3, 16, 13),
    ),
    date(2027, 3, 30): (
        utc(2027, 3, 30, 16),
        utc(2027, 3, 30, 8),
        utc(2027, 3, 30, 3, 30),
        utc(2027, 3, 29, 20),
        utc(2027, 3, 29, 22),
        utc(2027, 3, 30, 13),
    ),
    date(2027, 11, 2): (
        utc(2027, 11, 2, 16),
        utc(2027, 11, 2, 9),
        utc(2027, 11, 2, 3, 30),
        utc(2027, 11, 1, 20),
        utc(2027, 11, 1, 22),
        utc(2027, 11, 2, 13),
    ),
    date(2027, 11, 9): (
        utc(2027, 11, 9, 17),
        utc(2027, 11, 9, 9),
        utc(2027, 11, 9, 3, 30),
        utc(2027, 11, 8, 20),
        utc(2027, 11, 8, 22),
        utc(2027, 11, 9, 14),
    ),
    # On the day of a change itself (the switch is at 02:00, before 09:00).
    date(2026, 3, 8): (
        utc(2026, 3, 8, 16),
        utc(2026, 3, 8, 9),
        utc(2026, 3, 8, 3, 30),
        utc(2026, 3, 7, 20),
        utc(2026, 3, 7, 22),
        utc(2026, 3, 8, 13),
    ),
    date(2026, 11, 1): (
        utc(2026, 11, 1, 17),
        utc(2026, 11, 1, 9),
        utc(2026, 11, 1, 3, 30),
        utc(2026, 10, 31, 20),
        utc(2026, 10, 31, 22),
        utc(2026, 11, 1, 14),
    ),
}


@pytest.mark.parametrize("day", sorted(EXPECTED), ids=str)
def test_each_zone_is_due_at_nine_local_as_an_exact_utc_instant(day: date) -> None:
    plan = WavePlan(day, NINE, "America/New_York")
    assert tuple(plan.instant(zone) for zone in ZONES) == EXPECTED[day]


@pytest.mark.parametrize("day", sorted(EXPECTED), ids=str)
def test_waves_go_in_the_order_the_zones_reach_nine(day: date) -> None:
    plan = WavePlan(day, NINE, "America/New_York")
    groups = plan.groups(ZONES)
    instants = [due for due, _zones in groups]
    assert instants == sorted(set(EXPECTED[day]))
    assert groups[0][1] == ["Pacific/Auckland"]  # the first of these zones to reach 09:00
    assert groups[-1][1] == ["America/Los_Angeles"]


def test_a_zone_this_system_does_not_know_follows_the_list() -> None:
    plan = WavePlan(date(2026, 3, 3), NINE, "Europe/London")
    assert plan.instant("Mars/Olympus") == plan.instant(None) == utc(2026, 3, 3, 9)
    [(due, names)] = plan.groups(["Mars/Olympus", None, "Europe/London"])
    assert due == utc(2026, 3, 3, 9)
    assert set(names) == {"Mars/Olympus", None, "Europe/London"}

@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        # 02:00 EST → 03:00 EDT: 02:30 does not exist; sent when the clocks jump (07:00 UTC).
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7)),
        # 01:00 GMT → 02:00 BST: 01:15 does not exist; the jump is at 01:00 UTC.
        ("Europe/London", date(2026, 3, 29), time(1, 15), utc(2026, 3, 29, 1)),
        # Lord Howe: 02:00 → 02:30 (+10:30 → +11); 02:15 is skipped, the jump is 15:30 UTC.
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 30)),
        # 02:00 EDT → 01:00 EST: 01:30 happens twice; the first (EDT, 05:30 UTC) is used.
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        # Lord Howe: 02:00 → 01:30 (+11 → +10:30); 01:45 twice, first at +11 (14:45 UTC).
        ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), utc(2026, 4, 4, 14, 45)),
        # Just after a gap, time exists normally.
        ("America/New_York", date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7)),
    ],
)
def test_skipped_and_repeated_wall_times(
    zone: str, day: date, at: time, expected: datetime
) -> None:
    assert local_instant(day, at, ZoneInfo(zone)) == expected


def test_the_send_starts_when_the_first_zone_on_earth_reaches_the_time() -> None:
    schedule = WeeklySchedule.parse("tue 14:00", "America/New_York", "09:00")
    # 2026-W10's Tuesday is Mar 3: 09:00 at UTC+14 is Mar 2 19:00 UTC.
    assert schedule.send_time("2026-W10") == utc(2026, 3, 2, 19)
    assert schedule.week_at(utc(2026, 3, 2, 19)) == "2026-W10"
    assert schedule.previous_send(utc(2026, 3, 2, 19, 1)) == utc(2026, 3, 2, 19)
    assert schedule.next_send(utc(2026, 3, 2, 18, 59)) == utc(2026, 3, 2, 19)
    plan = schedule.wave_plan("2026-W10")
    assert plan == WavePlan(date(2026, 3, 3), NINE, "America/New_York")
    trigger = schedule.trigger()
    fired = trigger.get_next_fire_time(None, utc(2026, 3, 1))
    assert fired is not None and fired.astimezone(UTC) == utc(2026, 3, 2, 19)


def test_a_monday_send_that_starts_on_sunday_in_the_list_zone_keeps_its_week() -> None:
    schedule = WeeklySchedule.parse("mon 09:00", "America/Los_Angeles", "09:00")
    start = schedule.send_time("2026-W11")  # Mon Mar 9: starts Sun Mar 8 11:00 in LA
    assert start == utc(2026, 3, 8, 19)
    assert start.astimezone(ZoneInfo("America/Los_Angeles")).weekday() == 6
    assert schedule.week_at(start) == "2026-W11"
    assert schedule.previous_send(start + timedelta(hours=30)) == start


def test_without_the_setting_the_schedule_is_todays() -> None:
    schedule = WeeklySchedule.parse("tue 09:00", "America/New_York")
    assert schedule.wave_plan("2026-W10") is None
    assert schedule.send_time("2026-W10") == utc(2026, 3, 3, 14)
    # Sunday Mar 1 23:00 in New York: still the week before there; already Monday at UTC+14.
    assert schedule.week_at(utc(2026, 3, 2, 4)) == "2026-W09"
    local = WeeklySchedule.parse("tue 09:00", "America/New_York", "09:00")
    assert local.week_at(utc(2026, 3, 2, 4)) == "2026-W10"


WALL_TIMES = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
WEEKS = st.dates(date(2026, 1, 5), date(2028, 12, 25)).map(week_key)
ALL_ZONES = st.sampled_from([*(z for z in ZONES if z), "Pacific/Kiritimati", "Etc/GMT+12"])


@given(
    weekday=st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    list_zone=ALL_ZONES,
    at=WALL_TIMES,
    week=WEEKS,
    reader_zone=ALL_ZONES,
)
def test_no_wave_is_due_before_the_send_starts_and_the_week_is_its_own(
    weekday: str, list_zone: str, at: time, week: str, reader_zone: str
) -> None:
    schedule = WeeklySchedule.parse(f"{weekday} 09:00", list_zone, f"{at:%H:%M}")
    start = schedule.send_time(week)
    plan = schedule.wave_plan(week)
    assert plan is not None
    assert start == start_of_waves(plan.day, at)
    due = plan.instant(reader_zone)
    assert start <= due <= start + timedelta(hours=27)
    assert schedule.week_at(start) == week
    assert schedule.previous_send(start) == start
    assert schedule.next_send(start - timedelta(seconds=1)) == start


@given(st.text(max_size=12))
def test_a_local_send_time_is_hh_mm_or_nothing(value: str) -> None:
    clean = value.strip()
    valid = (
        len(clean) == 5
        and clean[2] == ":"
        and clean[:2].isascii()
        and clean[:2].isdigit()
        and clean[3:].isascii()
        and clean[3:].isdigit()
        and int(clean[:2]) < 24
        and int(clean[3:]) < 60
    )
    if valid or not clean:
        settings = load_settings(send_local_time=value)
        assert settings.send_local_time == clean
        WeeklySchedule.parse(settings.schedule, settings.timezone, settings.send_local_time)
    else:
        with pytest.raises(ConfigError, match=r"^PULSE_SEND_LOCAL_TIME: "):
            load_settings(send_local_time=value)


NEAR_MISSES = ["9:00", "09:00:00", "24:00", "09:60", "09h00", "٠٩:٠٠", "0٩:00", "09:0\u0663"]


@pytest.mark.parametrize("value", NEAR_MISSES)
def test_near_misses_are_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^PULSE_SEND_LOCAL_TIME: "):
        load_settings(send_local_time=value)
