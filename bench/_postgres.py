"""PostgreSQL set-up for the scale benchmarks: a throwaway database, a list seeded in SQL.

A million subscribers inserted row by row from Python would take longer than the send it
prepares, so the list is made by the server itself (``generate_series``); the issue is built
by the real code, as everywhere else.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

_SEED = text(
    """
    INSERT INTO subscribers (email, email_key, first_name, status, created_at, updated_at,
                             confirmed_at, consent_text, consent_at, track_clicks)
    SELECT 'reader' || lpad(n::text, 8, '0') || '@example.com',
           'reader' || lpad(n::text, 8, '0') || '@example.com',
           (ARRAY['Alex', 'Sam', 'Robin', 'Kim', 'Jo'])[1 + n % 5],
           'active', now(), now(), now(), 'benchmark', now(), true
    FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n
    """
)

# Everything a send writes, emptied between runs so each starts from the same list.
_RESET = (
    "TRUNCATE deliveries, send_rate_log, send_holds, send_locks CASCADE",
    "UPDATE issues SET status = 'built', send_started_at = NULL, sent_at = NULL, "
    "pause_reason = NULL",
)


def server_url() -> str:
    """The server to make the throwaway database on (PULSE_BENCH_POSTGRES_URL, else local)."""
    return os.environ.get("PULSE_BENCH_POSTGRES_URL") or DEFAULT_SERVER


@contextmanager
def throwaway_database(server: str, keep: bool = False) -> Iterator[str]:
    """A new empty database on ``server`` for the block; dropped after unless ``keep``."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"pulse_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_subscribers(engine: Engine, count: int, chunk: int = 250_000) -> None:
    """``count`` active subscribers, made by the server in chunks of ``chunk``."""
    for first in range(1, count + 1, chunk):
        with engine.begin() as connection:
            connection.execute(_SEED, {"first": first, "last": min(first + chunk - 1, count)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE subscribers"))


def reset_send(engine: Engine) -> None:
    """Back to a built issue with no deliveries."""
    with engine.begin() as connection:
        for statement in _RESET:
            connection.execute(text(statement))


def analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE deliveries"))


def table_bytes(engine: Engine, table: str) -> int:
    """A table's size with its indexes and TOAST."""
    with engine.connect() as connection:
        size = connection.execute(
            text("SELECT pg_total_relation_size(CAST(:table AS regclass))"), {"table": table}
        ).scalar()
    return int(size or 0)


def write_counters(engine: Engine) -> dict[str, int]:
    """The database's cumulative rows written, commits and WAL bytes (deltas make per-run)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        row = connection.execute(
            text(
                "SELECT tup_inserted + tup_updated + tup_deleted, xact_commit, "
                "(SELECT wal_bytes FROM pg_stat_wal) "
                "FROM pg_stat_database WHERE datname = current_database()"
            )
        ).one()
    return {"rows": int(row[0]), "commits": int(row[1]), "wal_bytes": int(row[2])}


class BackendCpu:
    """CPU seconds of this database's server processes, sampled while a send runs.

    Each connection is served by its own backend process; its ``/proc/<pid>/stat`` says how
    much CPU it used so far. Sampled every half second and summed over every backend seen,
    so at most the last half second of each is missed. Only for a server on this machine
    (otherwise the figure is None).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: dict[int, float] = {}
        self.readable = True
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> BackendCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()

    @property
    def seconds(self) -> float | None:
        return sum(self.seen.values()) if self.readable and self.seen else None

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._sample()

    def _sample(self) -> None:
        with self.engine.connect() as connection:
            pids = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # ended meanwhile, or not on this machine
                except ValueError:
                    self.readable = False
                    continue
                used = (int(fields[11]) + int(fields[12])) / self.tick
                self.seen[pid] = max(self.seen.get(pid, 0.0), used)
