"""Fresh planner statistics for tables the pipeline changes in bulk (PostgreSQL only).

Used by event intake and by the creation of a send's rows. Every matching query is an
index lookup — when the planner knows how big the tables are and how their columns
spread. The pipeline writes in bulk faster than autovacuum notices (a million deliveries
created or given message ids in minutes, thousands of events stored in one import
transaction; autovacuum looks once a minute, and some servers run it off),
and a planner with stale statistics reads a ``IN (…)`` of a thousand keys as "most of the
table" and scans all of it, once per batch: the cost per event then grows with the table
(the 24 events/s of issue 20). So intake checks, once per batch, how much each table has
changed since it was last analysed — PostgreSQL's own counter plus what this transaction
wrote, which the counter does not see before commit — and analyses a table that changed
by more than a tenth (the autovacuum default). ANALYZE samples a fixed number of rows, so
this costs a fraction of a second even on a million-row table, and is rare.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

TABLES = ("deliveries", "provider_events", "subscribers")
# What autovacuum would use: analyse after 10% of the rows (plus a floor) have changed.
_SCALE, _FLOOR = 0.1, 1000


class Statistics:
    """Tracks this transaction's writes and analyses a table whose statistics went stale."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._enabled = session.get_bind().dialect.name == "postgresql"
        self._written: dict[str, int] = {}
        # The server's change counter when this transaction last analysed a table: it is
        # not reset for us until commit.
        self._baseline: dict[str, int] = {}

    def wrote(self, table: str, rows: int) -> None:
        self._written[table] = self._written.get(table, 0) + rows

    def refresh(self) -> list[str]:
        """Analyse the stale tables (none on SQLite, whose planner needs no statistics here)."""
        if not self._enabled:
            return []
        query = text(
            "SELECT c.relname, c.reltuples, s.n_mod_since_analyze FROM pg_class c "
            "JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relnamespace = to_regnamespace(current_schema())::oid "
            "AND c.relname = ANY(:tables)"
        )
        stale: list[tuple[str, int]] = []
        for name, tuples, modified in self._session.execute(query, {"tables": list(TABLES)}):
            counted = int(modified or 0)
            changed = counted - self._baseline.get(name, 0) + self._written.get(name, 0)
            if changed > _FLOOR + _SCALE * max(float(tuples), 0.0):
                stale.append((name, counted))
        for name, counted in stale:
            assert name in TABLES
            # SKIP_LOCKED: a concurrent intake analysing the same table already does the
            # job, and waiting on it while holding rows could deadlock with it.
            self._session.execute(text(f"ANALYZE (SKIP_LOCKED) {name}"))
            self._written[name] = 0
            self._baseline[name] = counted
        return [name for name, _ in stale]
