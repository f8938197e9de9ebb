"""PostgreSQL set-up for the scale benchmarks: a throwaway database, a list seeded in SQL.

A million subscribers inserted row by row from Python would take longer than the send it
prepares, so the list is made by the server itself (``generate_series``); the issue is built
by the real code, as everywhere else.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
