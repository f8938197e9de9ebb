"""The send rate cap shared by every worker: a sliding-window log in the database.

Before a batch goes out, its worker reserves the batch's size in ``send_rate_log``. A
reservation is granted only if, counting it, no window holds more than its cap: one second
for ``PULSE_SEND_RATE`` and, when set, an hour and a day for ``PULSE_SEND_HOURLY_CAP`` /
``PULSE_SEND_DAILY_CAP`` (SES-style quotas). Otherwise the worker sleeps until the oldest
entry in the way leaves the window and asks again. Reservations are serialised (PostgreSQL
advisory lock, SQLite's single writer), so the caps hold for all workers together.

The same reservation reads ``send_holds``: when a provider answers 429 with a wait hint, the
thread that got it records a hold (:meth:`SendRateLimiter.hold`), and no thread of any worker
is granted a reservation before the hold ends. At most the requests already on their way
when the answer came still reach the provider. The process that records a hold knows it
before its commit lands (a slow disk or a busy SQLite writer can take longer than a whole
batch): its own threads see it at once, in memory, and other processes once it commits.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from pipeline.delivery.models import SendHold, SendRateEntry
from pulse_core.database import transaction

RATE_LOCK_KEY = 0x50554C5352
DAY = 86_400.0
# Requests reach the provider a few milliseconds after they are released; the per-second
# window is kept slightly wider so that jitter cannot put two releases in one provider second.
ARRIVAL_MARGIN = 0.03


@dataclass(frozen=True)
class Window:
    """At most ``cap`` messages in any ``seconds``-long window."""

    seconds: float
    cap: float


def windows_for(
    per_second: float | None, hourly: int | None = None, daily: int | None = None
) -> list[Window]:
    """The windows a configuration asks for (none when nothing is capped)."""
    windows = []
    if per_second is not None:
        # Below one message per second the window widens so it can hold one whole message.
        span = max(1.0, 1.0 / per_second)
        windows.append(Window(span + ARRIVAL_MARGIN, per_second * span))
    if hourly is not None:
        windows.append(Window(3600.0, float(hourly)))
    if daily is not None:
        windows.append(Window(DAY, float(daily)))
    return windows


def batch_size_for(per_second: float | None, largest: int) -> int:
    """A batch size that fills the per-second cap evenly, so the rate reaches the cap.

    With a cap of 100/s and batches of 30, only three batches fit in a second (90/s); four
    batches of 25 reach 100/s.
    """
    if per_second is None:
        return largest
    per_window = max(1.0, per_second * max(1.0, 1.0 / per_second))
    batches = math.ceil(per_window / largest)
    return max(1, min(largest, math.floor(per_window / batches)))


def earliest_start(
    entries: Sequence[tuple[float, int]], windows: Sequence[Window], count: int, now: float
) -> float:
    """When ``count`` more messages may go out, given earlier releases ``(at, count)``."""
    start = now
    for window in windows:
        recent = sorted((at, n) for at, n in entries if at > now - window.seconds)
        total = sum(n for _at, n in recent)
        for at, n in recent:
            if total + count <= window.cap:
                break
            total -= n
            start = max(start, at + window.seconds)
    return start


def current_hold(session: Session, now: float) -> float | None:
    """When the latest provider hold in force ends (Unix time), if one is."""
    return session.scalar(select(func.max(SendHold.until)).where(SendHold.until > now))


class SendRateLimiter:
    """Reserves room for batches in the shared log; blocks until the caps allow them."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        windows: Sequence[Window],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sessions = sessions
        self.windows = list(windows)
        self.clock = clock
        self.sleep = sleep
        self.longest = max((w.seconds for w in self.windows), default=0.0)
        self._pruned = 0.0
        self._lock = threading.Lock()
        self._hold_here: tuple[float, str] | None = None  # the latest hold this process set

    @property
    def enabled(self) -> bool:
        """Whether any cap is configured (holds apply either way)."""
        return bool(self.windows)

    def reserve(self, count: int, stop: Callable[[], bool] = lambda: False) -> int | None:
        """Block until ``count`` messages may be released; returns the log entry's id.

        Returns None without reserving when ``stop()`` turns true while waiting, or when no
        cap is configured (then only a provider's hold is waited out).
        """
        while not stop():
            wait, entry_id = self._try_reserve(count)
            if wait <= 0:
                return entry_id
            self.sleep(min(wait, 1.0))
        return None

    def wait_turn(self, count: int, stop: Callable[[], bool] = lambda: False) -> bool:
        """Block until ``count`` messages may go out (caps and holds); False if stopped."""
        while not stop():
            wait, _entry = self._try_reserve(count)
            if wait <= 0:
                return True
            self.sleep(min(wait, 1.0))
        return False

    def wait_out_holds(self, stop: Callable[[], bool] = lambda: False) -> bool:
        """Block while a provider's hold is in force (no reservation); False if stopped."""
        while not stop():
            held = self.held_until()
            if held is None:
                return True
            self.sleep(min(max(held[0] - self.clock(), 0.0), 1.0))  # it may just have ended
        return False

    def hold(self, seconds: float, reason: str) -> float:
        """Make every sender wait ``seconds`` from now; returns when the hold ends (Unix time)."""
        until = self.clock() + max(seconds, 0.0)
        with self._lock:
            if self._hold_here is None or self._hold_here[0] < until:
                self._hold_here = (until, reason)
        with transaction(self.sessions) as session:
            session.add(SendHold(until=until, reason=reason[:1000]))
            session.execute(delete(SendHold).where(SendHold.until < until - DAY))
        return until

    def held_until(self) -> tuple[float, str] | None:
        """The latest hold still in force and its reason, if any."""
        with transaction(self.sessions) as session:
            row = session.execute(
                select(SendHold.until, SendHold.reason)
                .where(SendHold.until > self.clock())
                .order_by(SendHold.until.desc())
                .limit(1)
            ).first()
        here = self._held_here()
        if row is not None and (here is None or row.until >= here[0]):
            return (row.until, row.reason)
        return here

    def holding_here(self) -> bool:
        """Whether a hold this process set is in force (known before its commit lands)."""
        return self._held_here() is not None

    def _held_here(self) -> tuple[float, str] | None:
        with self._lock:
            here = self._hold_here
        return here if here is not None and here[0] > self.clock() else None

    def adjust(self, entry_id: int | None, count: int) -> None:
        """Correct a reservation to the messages actually sent (rows may have been skipped)."""
        if entry_id is None:
            return
        with transaction(self.sessions) as session:
            session.execute(
                update(SendRateEntry).where(SendRateEntry.id == entry_id).values(count=count)
            )

    def _try_reserve(self, count: int) -> tuple[float, int | None]:
        """``(0, entry id)`` when granted (no id when nothing is capped), else seconds to wait."""
        with transaction(self.sessions) as session:
            now = self.clock()
            here = self._held_here()
            held = max(current_hold(session, now) or 0.0, here[0] if here else 0.0)
            if held > now:
                return held - now, None
            if not self.enabled:
                return 0.0, None
            if session.get_bind().dialect.name == "postgresql":
                session.execute(select(func.pg_advisory_xact_lock(RATE_LOCK_KEY)))
            now = self.clock()
            entries = session.execute(
                select(SendRateEntry.at, SendRateEntry.count).where(
                    SendRateEntry.at > now - self.longest
                )
            ).all()
            start = earliest_start([(at, n) for at, n in entries], self.windows, count, now)
            if start > now:
                return start - now, None
            entry = SendRateEntry(at=now, count=count)
            session.add(entry)
            self._prune(session, now)
            session.flush()
            return 0.0, entry.id

    def _prune(self, session: Session, now: float) -> None:
        # Entries older than the longest window no longer matter; prune about once a minute.
        if now - self._pruned < 60:
            return
        self._pruned = now
        session.execute(
            delete(SendRateEntry).where(SendRateEntry.at < now - max(self.longest, DAY))
        )

