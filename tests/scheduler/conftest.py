"""Fixtures for the weekly clock: a seeded week, a recording notifier, a job at any time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from pipeline.schedule import WeeklySchedule
from pipeline.scheduler.job import WeeklyJob
from pipeline.wiring import Pulse
from tests.harness.seed import WEEK, seed_week_of


@dataclass
class RecordingNotifier:
    """Stands in for the editors' inbox and records what they were told."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, subject: str, body: str) -> int:
        self.sent.append((subject, body))
        return 1


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def make_job(pulse: Pulse, notifier: RecordingNotifier) -> Callable[[], WeeklyJob]:
    def make() -> WeeklyJob:
        schedule = WeeklySchedule.parse(pulse.settings.schedule, pulse.settings.timezone)
        return WeeklyJob(pulse, schedule, notifier)

    return make


def seed(pulse: Pulse, readers: int = 12, week: str = WEEK) -> None:
    """The week's content and a list that joined four weeks before it (an established list).

    The clock never sends a week due before the list began, so the readers are backdated.
    """
    seed_week_of(pulse, readers, week, established=True)
