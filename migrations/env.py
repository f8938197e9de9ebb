"""Alembic environment: runs against the engine handed over by pipeline.db.

On SQLite a migration that changes a table's constraints copies the table (batch mode), and
dropping the old copy with foreign keys on would run its ON DELETE actions: every row that
references it deleted or nulled. So, as SQLite's own procedure for schema changes says
(https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
Changes"), foreign keys are off while the migrations run, and before they commit
``PRAGMA foreign_key_check`` must find nothing, or the whole upgrade is rolled back.
"""

from __future__ import annotations

from alembic import context

from pipeline.tables import metadata

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    if sqlite:
        # Outside any transaction (SQLite ignores this pragma inside one): on the raw
        # connection, before SQLAlchemy's BEGIN.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata(),
            render_as_batch=True,  # SQLite can only ALTER through table copies
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"a migration broke foreign keys: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()  # nothing left open (after a failure), so the pragma holds
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
