"""Process liveness: a lock that dies with its process, so others know at once it is gone.

Every sender (``pulse issue send``, the scheduler's send, each ``pulse worker``) holds one for
as long as it sends, under an owner name ``host:pid:key`` that it writes on the send lock and
on every row it leases (``host`` is ``PULSE_HOST_ID`` when set, else the hostname). Another
process that finds rows leased by an owner whose lock is no longer held knows that owner
died (kill -9, a lost machine, a lost connection) and takes its batches back at once,
instead of waiting for ``lease_until``. The lock is released by the operating system
or the database itself when the process ends, however it ends:

- **PostgreSQL**: a session-level advisory lock ``(NAMESPACE, key)`` held on a dedicated
  connection (taken out of the pool, so it never goes back to it with the lock held). The
  server drops it when that connection closes: at once when the process dies, within about
  30 s (keepalives set on that connection) when its host vanishes. Others look it up in
  ``pg_locks``, so this works from any host.
- **SQLite**: an ``flock`` on ``<database>-senders/<key>.lock`` beside the database file.
  The kernel drops it when the process dies. Others probe with a non-blocking ``flock``.
  SQLite is one host's database, and owners from another host are never judged dead.
- **In-memory SQLite** (tests, nothing shared): nobody else can see the rows, so no lock;
  leases then only run out with time.

"Dead" is final: an owner name is never reused, so once seen dead it stays dead. "Alive" can
change, so callers probe again now and then. When in doubt (an owner name this module did not
write) the answer is "not known dead", and the lease's expiry still applies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# First key of the two-key advisory locks ("PULS"); the claim and rate locks use the
# one-key form, so they can never collide with these.
NAMESPACE = 0x50554C53
HEALTH_CHECK_EVERY = 5.0  # seconds between checks that our own lock is still held

_HELD_KEYS = text(
    "SELECT CAST(objid AS bigint) FROM pg_locks "
    "WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND CAST(classid AS bigint) = :namespace "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
    "SET tcp_user_timeout = 30000",
)


def this_host(host: str | None = None) -> str:
    """The name this process gives its machine: ``host`` if set (PULSE_HOST_ID), else its
    hostname. Workers on cloned machines or containers may share a hostname; an explicit
    name keeps them apart in owner names and logs (liveness itself goes by the lock key)."""
    return host or socket.gethostname()


def owner_name(key: int, host: str | None = None) -> str:
    """``host:pid:key``: readable in messages, unique per lock."""
    return f"{this_host(host)}:{os.getpid()}:{key:08x}"


def parse_owner(owner: str | None) -> tuple[str, int] | None:
    """``(host, key)`` of an owner name this module wrote, else None."""
    if not owner:
        return None
    parts = owner.rsplit(":", 2)
    if len(parts) != 3:
        return None
    host, _pid, key = parts
    try:
        return host, int(key, 16)
    except ValueError:
        return None


def display_owner(owner: str) -> str:
    """``host:pid`` of an owner name (the key means nothing to an operator)."""
    return owner.rsplit(":", 1)[0] if parse_owner(owner) else owner


class ProcessLiveness(ABC):
    """This process's liveness lock, and the way to ask whether other owners still hold theirs."""

    owner: str

    @abstractmethod
    def dead_among(self, session: Session, owners: Iterable[str | None]) -> set[str]:
        """The owners (other than us) known to have died; unknown ones are not included."""

    def healthy(self) -> bool:
        """Whether we still hold our own lock (False: stop sending, others may take over)."""
        return True

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (everything this process leased is recorded or released)."""


class LeaseOnly(ProcessLiveness):
    """No lock can be shared (in-memory SQLite): nobody is ever known dead."""

    def __init__(self, host: str | None = None) -> None:
        self.owner = owner_name(secrets.randbelow(2**31), host)

    def dead_among(self, session: Session, owners: Iterable[str | None]) -> set[str]:
        return set()

    def release(self) -> None:
        pass


class PostgresLiveness(ProcessLiveness):
    """A session-level advisory lock on a connection of its own."""

    def __init__(self, engine: Engine, host: str | None = None) -> None:
        connection: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # Out of the pool: closing it really closes it, and the server drops the lock.
        connection.detach()
        self.connection = connection
        # A host that vanishes sends no FIN: ask the server to notice a silent peer within
        # about half a minute instead of the system's two hours, so its lock goes with it.
        for setting in _SERVER_KEEPALIVES:
            with suppress(Exception):  # not over TCP (a Unix socket), or an old server
                connection.execute(text(setting))
        self.lock = threading.Lock()
        self.checked = time.monotonic()
        self.lost = False
        while True:
            key = secrets.randbelow(2**31)
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                {"namespace": NAMESPACE, "key": key},
            ).scalar()
            if taken:
                break
        self.key = key
        self.owner = owner_name(key, host)

    def dead_among(self, session: Session, owners: Iterable[str | None]) -> set[str]:
        candidates = {o: parsed[1] for o in set(owners) if o and (parsed := parse_owner(o))}
        candidates.pop(self.owner, None)
        if not candidates:
            return set()
        held = set(session.scalars(_HELD_KEYS, {"namespace": NAMESPACE}))
        return {owner for owner, key in candidates.items() if key not in held}

    def healthy(self) -> bool:
        with self.lock:
            if self.lost or time.monotonic() - self.checked < HEALTH_CHECK_EVERY:
                return not self.lost
            self.checked = time.monotonic()
            try:
                self.connection.execute(text("SELECT 1"))
            except SQLAlchemyError as err:  # the connection (and with it the lock) is gone
                log.error("the liveness lock's database connection was lost: %s", err)
                self.lost = True
            return not self.lost

    def release(self) -> None:
        with self.lock:
            with suppress(Exception):
                self.connection.execute(
                    text("SELECT pg_advisory_unlock(:namespace, :key)"),
                    {"namespace": NAMESPACE, "key": self.key},
                )
            with suppress(Exception):
                self.connection.close()


class FileLiveness(ProcessLiveness):
    """An ``flock`` on a file of its own in a folder beside the SQLite database."""

    def __init__(self, folder: Path, host: str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.host = this_host(host)
        while True:
            key = secrets.randbelow(2**31)
            path = self._path(key)
            if path.exists():
                continue
            # Locked before it gets its name: a prober never finds our file unlocked.
            draft = folder / f"{key:08x}.{os.getpid()}.draft"
            fd = os.open(draft, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(draft, path)
            break
        self.fd = fd
        self.key = key
        self.path = path
        self.owner = owner_name(key, self.host)
        os.write(fd, self.owner.encode())

    def _path(self, key: int) -> Path:
        return self.folder / f"{key:08x}.lock"

    def dead_among(self, session: Session, owners: Iterable[str | None]) -> set[str]:
        dead = set()
        for owner in set(owners):
            parsed = parse_owner(owner)
            if owner is None or parsed is None or owner == self.owner:
                continue
            host, key = parsed
            if host == self.host and self._is_dead(key):
                dead.add(owner)
        return dead

    def _is_dead(self, key: int) -> bool:
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return True  # its owner ended and the file was cleared away
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        else:
            with suppress(FileNotFoundError):
                path.unlink()  # dead for good: clear it away
            return True
        finally:
            os.close(fd)

    def healthy(self) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(self.fd).st_ino
        except OSError:
            return False  # someone removed our lock file: others would take us for dead

    def release(self) -> None:
        with suppress(FileNotFoundError):
            self.path.unlink()
        with suppress(OSError):
            os.close(self.fd)


def hold_liveness(engine: Engine, host: str | None = None) -> ProcessLiveness:
    """Take this process's liveness lock for ``engine``'s database, named for ``host``."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLiveness(engine, host)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return FileLiveness(Path(f"{url.database}-senders"), host)
    return LeaseOnly(host)


@contextmanager
def process_liveness(engine: Engine, host: str | None = None) -> Iterator[ProcessLiveness]:
    """Hold the liveness lock for the block."""
    liveness = hold_liveness(engine, host)
    try:
        yield liveness
    finally:
        liveness.release()
