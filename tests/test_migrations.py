"""Migrations and models agree, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pipeline.db import downgrade, is_current, open_database, upgrade
from pipeline.tables import metadata


def test_migrations_match_the_models(database_url: str) -> None:
    database = open_database(database_url)
    try:
        assert is_current(database.engine)
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata()) == []
    finally:
        database.dispose()


def test_downgrade_then_upgrade_round_trips(database_url: str) -> None:
    database = open_database(database_url)
    try:
        downgrade(database.engine, "base")
        assert not is_current(database.engine)
        upgrade(database.engine)
        assert is_current(database.engine)
    finally:
        database.dispose()
