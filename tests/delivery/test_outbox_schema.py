"""The outbox's lease and not-before columns through migration 0023, on a table with rows.

Also: delivery stays below the layers that use it (no scheduler, events, weekly, wiring or
config imports) and the engine module itself holds no SQL.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, update

from pipeline.db import MIGRATIONS_DIR, downgrade, upgrade
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.outbox import next_retry_at, retries_waiting
from pipeline.delivery.send_state import begin_send
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from tests.delivery.conftest import WEEK, seed_and_build

ROOT = Path(__file__).resolve().parents[2]
DELIVERY = ROOT / "pipeline" / "delivery"


def revision_before_0023() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    down = ScriptDirectory.from_config(config).get_revision("0023").down_revision
    assert isinstance(down, str)
    return down


def test_0023_keeps_leased_and_deferred_rows_and_moves_a_stale_lease_to_not_before(
    configure: Callable[..., Pulse],
) -> None:
    pulse = configure()
    seed_and_build(pulse, 4)
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    now = utcnow().replace(microsecond=0)
    leased, deferred, stale, fresh = (now + timedelta(minutes=n) for n in (5, 30, 45, 0))
    with transaction(pulse.db.sessions) as session:
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        states = [
            # a batch in flight: sending, leased by a live sender
            {"status": DeliveryStatus.SENDING, "lease_until": leased, "lease_owner": "h:1:2"},
            # a recipient refused for now: pending until its retry is due
            {"status": DeliveryStatus.PENDING, "not_before": deferred, "retries": 1},
            # a pending row whose lease_until still means "not before" (the old layout)
            {"status": DeliveryStatus.PENDING, "lease_until": stale},
            {"status": DeliveryStatus.PENDING},
        ]
        for delivery_id, values in zip(ids, states, strict=True):
            session.execute(update(Delivery).where(Delivery.id == delivery_id).values(values))
    engine = pulse.db.engine
    downgrade(engine, revision_before_0023())
    assert "ix_deliveries_retry_due" not in index_names(pulse)
    upgrade(engine)
    assert "ix_deliveries_retry_due" in index_names(pulse)
    with transaction(pulse.db.sessions) as session:
        rows = {
            row.id: row for row in session.scalars(select(Delivery).where(Delivery.id.in_(ids)))
        }
        first, second, third, fourth = (rows[i] for i in ids)
        assert (first.status, first.lease_until, first.not_before) == (
            DeliveryStatus.SENDING,
            leased,
            None,
        )
        assert first.lease_owner == "h:1:2"
        assert (second.lease_until, second.not_before, second.retries) == (None, deferred, 1)
        assert (third.lease_until, third.not_before) == (None, stale)
        assert (fourth.lease_until, fourth.not_before) == (None, None)
        assert next_retry_at(session, issue.id) == deferred
        assert retries_waiting(session, issue.id, now=fresh) == 2


def index_names(pulse: Pulse) -> set[str]:
    return {index["name"] or "" for index in inspect(pulse.db.engine).get_indexes("deliveries")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):  # lazy imports inside functions count too
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_delivery_imports_nothing_above_it_except_the_worker_entry_point() -> None:
    upper = ("pipeline.scheduler", "pipeline.events", "pipeline.weekly", "pipeline.wiring")
    offenders = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in DELIVERY.rglob("*.py")
        # worker.py is the `pulse worker` entry point (moving into the workflow); the
        # provider registry reads Settings until the wiring hands it a config.
        if path.name not in ("worker.py", "registry.py")
        for module in imported_modules(path)
        if module.startswith(upper) or module == "pipeline.config"
    }
    assert offenders == set()


def test_the_engine_holds_no_sql() -> None:
    for name in ("engine.py", "batch_send.py", "options.py", "store.py"):
        modules = imported_modules(DELIVERY / name)
        assert not {m for m in modules if m.startswith("sqlalchemy")}, name
