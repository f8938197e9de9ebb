"""Writing a batch of event rows: COPY on PostgreSQL, one executemany elsewhere.

Event rows are the bulk of intake's writes (one per event, with the raw payload). A
multi-row INSERT costs PostgreSQL's driver more to build than the server to run, and
executemany a round trip per row; COPY streams the batch in one statement.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.events.models import ProviderEvent

COLUMNS = (
    "provider",
    "event_key",
    "type",
    "bounce_kind",
    "recipient",
    "provider_message_id",
    "delivery_id",
    "subscriber_id",
    "occurred_at",
    "received_at",
    "raw",
)
_COPY = f"COPY provider_events ({', '.join(COLUMNS)}) FROM STDIN"
_UNIQUE_VIOLATION = "23505"


def store_rows(session: Session, rows: Sequence[dict[str, object]]) -> None:
    """Insert ``rows`` (dicts over :data:`COLUMNS`); a twin already stored raises IntegrityError."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(ProviderEvent), list(rows))
        return
    driver: Any = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
            for row in rows:
                copy.write_row([_plain(row[column]) for column in COLUMNS])
    except Exception as err:  # the driver's own error class: psycopg is an optional extra
        if getattr(err, "sqlstate", None) == _UNIQUE_VIOLATION:
            raise IntegrityError(_COPY, None, err) from err
        raise


def _plain(value: object) -> object:
    # Enum columns hold the values ("delivered"); the driver would send member names.
    return value.value if isinstance(value, enum.Enum) else value
