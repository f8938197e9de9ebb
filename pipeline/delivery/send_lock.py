"""One sender per issue: a ``send_locks`` row naming the process, valid while that process lives.

Row leases already make every recipient's message exactly-once; this lock makes the *send*
single too, so a scheduler and a manual `pulse issue send` never both run a week. The row
names the holder by its liveness owner (see liveness.py), so a restart after a crash
(kill -9, a lost host) sees at once that the holder is gone and takes the lock over: no
heartbeat, no stale period to wait out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.delivery.liveness import ProcessLiveness, display_owner, parse_owner
from pipeline.delivery.models import SendLock
from pipeline.errors import IssueError
from pulse_core.database import transaction, utcnow

# Only for a lock row written by an older version (its owner has no liveness key): such a
# row is taken over once it is this old, as the heartbeat lock it was allowed.
LEGACY_STALE_AFTER = timedelta(seconds=90)


class SendInProgress(IssueError):
    """Another live process is sending this issue."""

    def __init__(self, week: str, owner: str) -> None:
        super().__init__(f"issue {week} is already being sent by {display_owner(owner)}")
        self.owner = owner


def try_acquire(
    sessions: sessionmaker[Session], issue_id: int, liveness: ProcessLiveness
) -> str | None:
    """Take the lock; returns None on success, else the current (live) owner."""
    me = liveness.owner
    try:
        with transaction(sessions) as session:
            session.add(SendLock(issue_id=issue_id, owner=me, heartbeat_at=utcnow()))
        return None
    except IntegrityError:
        pass
    with transaction(sessions) as session:
        lock = session.get(SendLock, issue_id, with_for_update=True)
        if lock is None:
            return "another process"  # it finished just now; the caller may try again
        if lock.owner == me:
            return None
        if parse_owner(lock.owner) is None:
            dead = lock.heartbeat_at < utcnow() - LEGACY_STALE_AFTER
        else:
            dead = lock.owner in liveness.dead_among(session, [lock.owner])
        if not dead:
            return lock.owner
        # Only the owner we judged dead may be replaced: of two processes taking over
        # at once, one updates the row and the other finds it changed.
        taken = session.execute(
            update(SendLock)
            .where(SendLock.issue_id == issue_id, SendLock.owner == lock.owner)
            .values(owner=me, heartbeat_at=utcnow())
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return None
        holder = session.scalar(select(SendLock.owner).where(SendLock.issue_id == issue_id))
    return holder or "another process"


def release(sessions: sessionmaker[Session], issue_id: int, owner: str) -> None:
    with transaction(sessions) as session:
        session.execute(
            delete(SendLock).where(SendLock.issue_id == issue_id, SendLock.owner == owner)
        )


@contextmanager
def send_lock(
    sessions: sessionmaker[Session], issue_id: int, week: str, liveness: ProcessLiveness
) -> Iterator[str]:
    """Hold the issue's send lock for the block, as long as ``liveness`` is held."""
    holder = try_acquire(sessions, issue_id, liveness)
    if holder is not None:
        raise SendInProgress(week, holder)
    try:
        yield liveness.owner
    finally:
        release(sessions, issue_id, liveness.owner)
