"""Local-time sending: each reader's copy is due at the same wall-clock time in their own zone.

With ``PULSE_SEND_LOCAL_TIME=09:00`` every delivery row gets a ``due_at``: the issue's send
day (the date of ``PULSE_SCHEDULE`` in ``PULSE_TIMEZONE``) at 09:00 in the reader's time zone
(their profile's, else the list's), as a UTC instant. Rows sharing an instant form a *wave*;
the claim query passes over rows not yet due, so the same claim, lease and rate-cap path
sends every wave and each reader still gets exactly one copy.

Daylight-saving edges, decided once here: a wall time that does not exist that day (the
clocks jump over it) is sent at the instant the clocks jump (02:30 on a 02:00→03:00 night
goes at 03:00); a wall time that happens twice (the clocks go back) is sent at its first
occurrence (``fold=0``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from pipeline.delivery.models import Delivery, DeliveryStatus
from subscribers.models import Subscriber

# The first zone on Earth to reach any wall time (UTC+14, as Pacific/Kiritimati): a
# local-time send starts when this zone reaches the send time, so no wave is ever late.
EARLIEST_ZONE = ZoneInfo("Etc/GMT-14")
LEFT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at wall time ``at`` in ``zone``, as a UTC instant (DST edges as documented)."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant  # the wall time exists (fold=0: its first occurrence if twice)
    # In a gap: fold=1 reads it with the offset after the jump, fold=0 with the one before;
    # the jump lies between the two readings. Find it to the second.
    low = int(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(instant.timestamp())
    after = datetime.fromtimestamp(high, UTC).astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


@dataclass(frozen=True)
class WavePlan:
    """When each reader's copy of one issue is due: ``day`` at ``at`` in their zone."""

    day: date
    at: time
    default_zone: str  # PULSE_TIMEZONE: for readers who gave none (or one this system lacks)

    def zone_for(self, name: str | None) -> str:
        """The zone a reader's copy follows: theirs if this system knows it, else the list's."""
        if name and _zone(name) is not None:
            return name
        return self.default_zone

    def instant(self, name: str | None) -> datetime:
        """The UTC instant the copy of a reader in zone ``name`` is due."""
        zone = _zone(self.zone_for(name))
        assert zone is not None  # the default zone is validated by the settings
        return local_instant(self.day, self.at, zone)

    def groups(self, names: Iterable[str | None]) -> list[tuple[datetime, list[str | None]]]:
        """The readers' zones grouped by due instant, earliest first (one group, one wave)."""
        by_instant: dict[datetime, list[str | None]] = defaultdict(list)
        for name in set(names):
            by_instant[self.instant(name)].append(name)
        return sorted(by_instant.items(), key=lambda item: item[0])


def start_of_waves(day: date, at: time) -> datetime:
    """The first instant any zone reaches ``at`` on ``day``: when a local-time send starts."""
    return local_instant(day, at, EARLIEST_ZONE)


@dataclass
class Wave:
    """One wave of a send: its instant, its readers' zones and how far it got."""

    due_at: datetime
    zones: list[str] = field(default_factory=list)
    sent: int = 0
    done: int = 0  # sent, failed or skipped
    left: int = 0  # pending or leased

    def state(self, now: datetime) -> str:
        if self.left == 0:
            return "done"
        return "in progress" if self.due_at <= now else "to come"


def waves_of(session: Session, issue_id: int, default_zone: str) -> list[Wave]:
    """The issue's waves in time order, with counts by outcome ([] for a send without waves)."""
    zone = func.coalesce(Subscriber.timezone, default_zone)
    rows = session.execute(
        select(Delivery.due_at, zone, Delivery.status, func.count())
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.issue_id == issue_id, Delivery.due_at.is_not(None))
        .group_by(Delivery.due_at, zone, Delivery.status)
    ).all()
    waves: dict[datetime, Wave] = {}
    for due_at, zone_name, status, count in rows:
        assert due_at is not None  # the query takes rows with a wave only
        zone_name = zone_name if _zone(zone_name) is not None else default_zone
        wave = waves.setdefault(due_at, Wave(due_at))
        if zone_name not in wave.zones:
            wave.zones.append(zone_name)
        if status in LEFT:
            wave.left += count
        else:
            wave.done += count
        if status is DeliveryStatus.SENT:
            wave.sent += count
    for wave in waves.values():
        wave.zones.sort()
    return [waves[due] for due in sorted(waves)]


def wave_due(issue_id: InstrumentedAttribute[int], now: datetime) -> ColumnElement[bool]:
    """The issue has rows whose wave has come (what the scheduler's 30 s look asks)."""
    return exists().where(
        Delivery.issue_id == issue_id,
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.due_at.is_not(None),
        Delivery.due_at <= now,
        # A row set aside to retry is the retry schedule's (retry.py), not a wave's.
        or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
    )


def next_wave(session: Session, issue_id: int, now: datetime) -> tuple[datetime | None, int]:
    """When the next wave not yet due comes, and how many rows wait for a wave."""
    later = (
        Delivery.issue_id == issue_id,
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.due_at > now,
    )
    first, count = session.execute(
        select(func.min(Delivery.due_at), func.count()).select_from(Delivery).where(*later)
    ).one()
    return first, int(count or 0)

