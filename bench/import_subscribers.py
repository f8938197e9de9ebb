"""Benchmark: import 100,000 subscribers from CSV on SQLite (target: under 30 s).

Prints three figures measured in the same run:
  floor     reading and validating the CSV only (no database): the least any import costs
  baseline  the skeleton's way: ORM objects added and flushed per chunk
  import    ``subscribers.importer.import_subscribers`` as ``pulse subscribers import`` runs it

Run: ``python bench/import_subscribers.py [ROWS]``
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from pipeline.db import open_database
from pulse_core.database import transaction, utcnow
from subscribers.addresses import email_key
from subscribers.importer import NewSubscriber, import_subscribers, read_subscriber_csv
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import SuppressionReason, suppress, suppression_keys

TARGET_SECONDS = 30.0
KEYS = suppression_keys(["bench-secret-key"])


def write_csv(path: Path, rows: int) -> None:
    names = ("Alex", "Sam", "Priya", "", "Wei", "María")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "first_name"])
        for n in range(rows):
            # Every 50th row repeats an earlier address in another case: merged, not added.
            number = n - 1 if n % 50 == 49 else n
            writer.writerow([f"Reader{number:07d}@Example.com", names[n % len(names)]])


def timed(label: str, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"{label:<9} {seconds:7.2f} s   {result}")
    return seconds


def floor(path: Path) -> str:
    with path.open(newline="", encoding="utf-8") as f:
        count = sum(1 for _ in read_subscriber_csv(f))
    return f"{count} rows read and validated"


def orm_baseline(path: Path, url: str) -> str:
    db = open_database(url)
    added = 0
    with transaction(db.sessions) as session, path.open(newline="", encoding="utf-8") as f:
        seen: set[str] = set()
        chunk: list[Subscriber] = []
        for _line, item in read_subscriber_csv(f):
            assert isinstance(item, NewSubscriber)
            key = email_key(item.email)
            if key in seen:
                continue
            seen.add(key)
            now = utcnow()
            chunk.append(
                Subscriber(
                    email=item.email,
                    email_key=key,
                    first_name=item.first_name,
                    status=SubscriberStatus.ACTIVE,
                    created_at=now,
                    updated_at=now,
                    consent_text="bench",
                    consent_at=now,
                    consent_source="bench",
                )
            )
            if len(chunk) >= 1000:
                session.add_all(chunk)
                session.flush()
                added += len(chunk)
                chunk = []
        session.add_all(chunk)
        added += len(chunk)
    db.dispose()
    return f"{added} added (no history, no suppression check)"


def real_import(path: Path, url: str) -> str:
    db = open_database(url)
    with transaction(db.sessions) as session:
        # A few suppressed addresses, as a real list would have.
        for n in range(0, 1000, 100):
            suppress(session, f"reader{n:07d}@example.com", SuppressionReason.UNSUBSCRIBED, KEYS[0])
    with transaction(db.sessions) as session, path.open(newline="", encoding="utf-8") as f:
        summary = import_subscribers(
            session,
            read_subscriber_csv(f),
            consent_text="bench",
            consent_source="bench",
            hash_keys=KEYS,
        )
    with transaction(db.sessions) as session:
        stored = session.scalar(select(func.count()).select_from(Subscriber))
    db.dispose()
    return f"{summary.describe()}; {stored} rows stored"


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "subscribers.csv"
        write_csv(path, rows)
        print(f"importing {rows:,} rows on SQLite ({path.stat().st_size / 1e6:.1f} MB CSV)")
        timed("floor", lambda: floor(path))
        base = timed("baseline", lambda: orm_baseline(path, f"sqlite:///{folder / 'orm.db'}"))
        ours = timed("import", lambda: real_import(path, f"sqlite:///{folder / 'pulse.db'}"))
    print(
        f"import vs baseline: {base / ours:.2f}x faster; target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if ours < TARGET_SECONDS else 'MISSED'}"
    )
    return 0 if ours < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
