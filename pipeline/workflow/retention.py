"""The retention use case shared by ``pulse db prune`` and the scheduler's daily job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pipeline.analytics.retention import PruneReport, parse_age, prune
from pipeline.errors import ValidationError
from pipeline.wiring import Pulse
from pulse_core.database import utcnow


def prune_age(text: str, field: str = "--older-than") -> timedelta:
    """An age from the operator (``180d``, ``26w``), or a ValidationError naming ``field``."""
    try:
        return parse_age(text)
    except ValueError as err:
        raise ValidationError(field, str(err)) from err


def prune_older_than(
    pulse: Pulse,
    age: timedelta,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> PruneReport:
    """Prune finished issues that started sending more than ``age`` ago (see retention).

    The soft-bounce rule counts a reader's bounces over its window; rows younger than the
    window are never pruned, whatever ``age`` says.
    """
    window = pulse.event_policy.soft_bounce_window
    if age < window:
        raise ValidationError(
            "--older-than",
            f"{age.days}d is shorter than PULSE_SOFT_BOUNCE_WINDOW_DAYS ({window.days}d)",
        )
    moment = now or utcnow()
    return prune(pulse.db.sessions, moment - age, moment, dry_run=dry_run, progress=progress)
