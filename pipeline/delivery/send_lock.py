"""One sender per issue: a database row with a heartbeat, taken before a send runs.

Row leases already make every recipient's message exactly-once; this lock makes the *send*
single too, so a scheduler and a manual `pulse issue send` never both run a week. A crashed
sender's lock goes stale when its heartbeat stops, so a restart can take over and resume.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import IssueError
from pipeline.scheduler.models import SendLock
from subscribers.database import transaction, utcnow

STALE_AFTER = timedelta(seconds=90)
HEARTBEAT_EVERY = 20.0


class SendInProgress(IssueError):
    """Another live process is sending this issue."""

    def __init__(self, week: str, owner: str) -> None:
        super().__init__(f"issue {week} is already being sent by {owner}")
        self.owner = owner


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def try_acquire(
    sessions: sessionmaker[Session], issue_id: int, owner: str, stale_after: timedelta = STALE_AFTER
) -> str | None:
    """Take the lock; returns None on success, else the current owner."""
    now = utcnow()
    try:
        with transaction(sessions) as session:
            session.add(SendLock(issue_id=issue_id, owner=owner, heartbeat_at=now))
        return None
    except IntegrityError:
        pass
    with transaction(sessions) as session:
        # Only a stale lock (its owner stopped beating) may be taken over.
        taken = session.execute(
            update(SendLock)
            .where(SendLock.issue_id == issue_id, SendLock.heartbeat_at < now - stale_after)
            .values(owner=owner, heartbeat_at=now)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return None
        holder = session.scalar(select(SendLock.owner).where(SendLock.issue_id == issue_id))
    return holder or "another process"


def beat(sessions: sessionmaker[Session], issue_id: int, owner: str) -> None:
    with transaction(sessions) as session:
        session.execute(
            update(SendLock)
            .where(SendLock.issue_id == issue_id, SendLock.owner == owner)
            .values(heartbeat_at=utcnow())
        )


def release(sessions: sessionmaker[Session], issue_id: int, owner: str) -> None:
    with transaction(sessions) as session:
        session.execute(
            delete(SendLock).where(SendLock.issue_id == issue_id, SendLock.owner == owner)
        )


@contextmanager
def send_lock(
    sessions: sessionmaker[Session],
    issue_id: int,
    week: str,
    *,
    owner: str | None = None,
    heartbeat_every: float = HEARTBEAT_EVERY,
) -> Iterator[str]:
    """Hold the issue's send lock for the block, beating in a background thread."""
    me = owner or this_process()
    holder = try_acquire(sessions, issue_id, me)
    if holder is not None:
        raise SendInProgress(week, holder)
    stopped = threading.Event()

    def keep_alive() -> None:
        while not stopped.wait(heartbeat_every):
            beat(sessions, issue_id, me)

    thread = threading.Thread(target=keep_alive, name="send-lock-heartbeat", daemon=True)
    thread.start()
    try:
        yield me
    finally:
        stopped.set()
        thread.join()
        release(sessions, issue_id, me)
