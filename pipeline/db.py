"""Opening the database and keeping its schema current with Alembic."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

# Importing the stages' models registers their tables on Base.metadata, so a foreign key to
# any of them resolves in every process. The front ends' own tables, and the metadata of all
# of them for Alembic, are in pipeline.tables.
from pipeline.analytics import models as _analytics_models  # noqa: F401
from pipeline.content import models as _content_models  # noqa: F401
from pipeline.delivery import models as _delivery_models  # noqa: F401
from pipeline.events import models as _event_models  # noqa: F401
from pipeline.events import replay as _event_replay_models  # noqa: F401
from pipeline.extras import require_extra
from pipeline.intake import models as _intake_models  # noqa: F401
from pipeline.issues import comparisons as _comparison_models  # noqa: F401
from pipeline.issues import models as _issue_models  # noqa: F401
from pipeline.resources import bundled
from pipeline.welcome import models as _welcome_models  # noqa: F401
from pulse_core.database import make_engine, session_factory
from subscribers import history as _history_models  # noqa: F401
from subscribers import models as _subscriber_models  # noqa: F401
from subscribers import suppression as _suppression_models  # noqa: F401

MIGRATIONS_DIR = bundled("migrations")


@dataclass(frozen=True)
class Database:
    """An engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    command.downgrade(_alembic_config(engine), revision)


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == set(script.get_heads())


def _create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (SQLite's -wal/-shm files follow)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def open_database(
    url: str, *, auto_upgrade: bool = True, application_name: str | None = None
) -> Database:
    """Connect to ``url``; create SQLite's folder and bring the schema up to date.

    On PostgreSQL every connection carries ``application_name`` (the wiring passes
    ``pulse host:pid``), so ``pg_stat_activity`` says which process on which host holds it.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if parsed.database.startswith("file:"):  # a URI filename: SQLite opens it itself
            Path(parsed.database[5:].split("?")[0]).parent.mkdir(parents=True, exist_ok=True)
        else:
            _create_private_file(Path(parsed.database))
    if parsed.get_backend_name() == "postgresql":
        require_extra(parsed.get_driver_name(), "postgres", "PULSE_DATABASE_URL is PostgreSQL")
    named = parsed.get_backend_name() == "postgresql" and application_name
    engine = make_engine(url, **({"connect_args": {"application_name": named}} if named else {}))
    if auto_upgrade and not is_current(engine):
        upgrade(engine)
    return Database(engine=engine, sessions=session_factory(engine))
