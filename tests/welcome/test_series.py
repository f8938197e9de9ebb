"""PULSE_WELCOME_SERIES: parsing, validation, and which readers a step is due for."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.welcome.series import (
    DEFAULT_SERIES,
    STALE_AFTER,
    Step,
    due_window,
    parse_series,
    welcomes_at_once,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_default_series_is_welcome_start_here_and_your_role() -> None:
    steps = parse_series(DEFAULT_SERIES)
    assert [(s.key, s.delay_text) for s in steps] == [
        ("welcome", "0d"),
        ("start-here", "2d"),
        ("your-role", "7d"),
    ]
    assert welcomes_at_once(steps)


def test_an_empty_value_turns_the_series_off() -> None:
    assert parse_series("") == ()
    assert parse_series(" , ") == ()
    assert not welcomes_at_once(())


def test_hours_are_accepted_and_a_late_first_step_keeps_the_single_welcome() -> None:
    steps = parse_series("tips=12h,more=3d")
    assert steps == (Step("tips", timedelta(hours=12)), Step("more", timedelta(days=3)))
    assert not welcomes_at_once(steps)


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("welcome", "must look like"),
        ("welcome=soon", "must look like"),
        ("Welcome=0d", "must look like"),
        ("../etc=0d", "must look like"),
        ("welcome=0d,welcome=2d", "appears twice"),
        ("a=2d,b=1d", "must come later"),
        ("a=2d,b=48h", "must come later"),
        ("a=91d", "at most 90 days"),
        (",".join(f"s{n}={n}d" for n in range(11)), "at most 10 steps"),
    ],
)
def test_a_bad_series_is_a_config_error_naming_the_setting(
    value: str, complaint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_WELCOME_SERIES", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("PULSE_WELCOME_SERIES:")
    assert complaint in str(caught.value)


@given(st.text(max_size=60))
def test_any_value_parses_or_raises_value_error(value: str) -> None:
    try:
        steps = parse_series(value)
    except ValueError:
        return
    # What parses is a usable series: unique names, delays increasing.
    assert len({s.key for s in steps}) == len(steps)
    assert all(a.delay < b.delay for a, b in itertools.pairwise(steps))


def test_a_step_is_due_from_its_delay_until_stale_or_the_next_step_is_due() -> None:
    steps = parse_series("welcome=0d,start-here=2d,your-role=7d")
    welcome = due_window(steps, 0, NOW)
    # Due at once; stale once the next step (2 days) is due, or after STALE_AFTER.
    assert welcome.latest == NOW
    assert welcome.earliest == NOW - min(timedelta(days=2), STALE_AFTER)
    start_here = due_window(steps, 1, NOW)
    assert start_here.latest == NOW - timedelta(days=2)
    assert start_here.earliest == NOW - timedelta(days=2) - STALE_AFTER
    last = due_window(steps, 2, NOW)
    assert last.earliest == NOW - timedelta(days=7) - STALE_AFTER


def test_after_an_outage_only_the_latest_due_step_is_fresh() -> None:
    steps = parse_series("a=0d,b=1d,c=2d")
    confirmed = NOW - timedelta(days=1, hours=12)  # a and b are both due
    fresh = [
        s.key
        for i, s in enumerate(steps)
        if due_window(steps, i, NOW).earliest < confirmed <= due_window(steps, i, NOW).latest
    ]
    assert fresh == ["b"]
