"""The steps of the series and when each is due: ``PULSE_WELCOME_SERIES``.

``welcome=0d,start-here=2d,your-role=7d`` (the default) means: ``welcome`` as soon as the
reader confirms, ``start-here`` two days later, ``your-role`` after seven. Delays are
``<n>d`` or ``<n>h`` after the confirmation, strictly increasing; an empty value turns the
series off. Each step's email is ``templates/email/series/<step>.mjml`` and ``.txt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_SERIES = "welcome=0d,start-here=2d,your-role=7d"
MAX_STEPS = 10
MAX_DELAY = timedelta(days=90)
# A step found this long overdue is skipped, not sent: after an outage, or for a reader who
# was paused, a "welcome" a week late would be odd. (A step whose next step is due is
# skipped too, so an outage never ends in a burst of stale steps.)
STALE_AFTER = timedelta(days=2)
_KEY = re.compile(r"[a-z][a-z0-9-]{0,29}")
_DELAY = re.compile(r"(\d{1,4})([dh])")


@dataclass(frozen=True)
class Step:
    """One email of the series and how long after confirming it is due."""

    key: str
    delay: timedelta

    @property
    def delay_text(self) -> str:
        hours = int(self.delay.total_seconds() // 3600)
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


@dataclass(frozen=True)
class Window:
    """The confirmation times for which a step is due now and still fresh.

    A reader confirmed at ``t`` gets the step when ``earliest < t <= latest``.
    """

    earliest: datetime
    latest: datetime


def parse_series(value: str) -> tuple[Step, ...]:
    """The steps of ``value``; raise ``ValueError`` naming the bad entry."""
    steps: list[Step] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        key, sep, delay = (part.strip() for part in entry.partition("="))
        match = _DELAY.fullmatch(delay)
        if not sep or not _KEY.fullmatch(key) or match is None:
            raise ValueError(
                f"{entry!r} must look like 'start-here=2d' (a lower-case name, then a delay "
                "in days d or hours h)"
            )
        amount, unit = int(match.group(1)), match.group(2)
        step = Step(key, timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
        if step.delay > MAX_DELAY:
            raise ValueError(f"{entry!r}: a step may be at most {MAX_DELAY.days} days out")
        if any(s.key == key for s in steps):
            raise ValueError(f"{key!r} appears twice")
        if steps and step.delay <= steps[-1].delay:
            raise ValueError(f"{entry!r} must come later than {steps[-1].key!r}")
        steps.append(step)
    if len(steps) > MAX_STEPS:
        raise ValueError(f"at most {MAX_STEPS} steps")
    return tuple(steps)


def due_window(steps: tuple[Step, ...], index: int, now: datetime) -> Window:
    """Who step ``index`` is for at ``now``: due, not stale, its next step not yet due."""
    step = steps[index]
    latest = now - step.delay
    earliest = latest - STALE_AFTER
    if index + 1 < len(steps):
        earliest = max(earliest, now - steps[index + 1].delay)
    return Window(earliest=earliest, latest=latest)


def welcomes_at_once(steps: tuple[Step, ...]) -> bool:
    """Whether the series itself welcomes a reader on confirming (its first step is ``0``).

    Then it replaces the single welcome email (``PULSE_WELCOME_EMAIL``), never doubles it.
    """
    return bool(steps) and steps[0].delay == timedelta(0)
