"""Alembic environment: runs against the engine handed over by pipeline.db."""

from __future__ import annotations

from alembic import context

from pipeline.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata(),
        render_as_batch=True,  # SQLite can only ALTER through table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
