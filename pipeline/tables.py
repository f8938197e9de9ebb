"""Every table, for Alembic: the stages' (registered by :mod:`pipeline.db`) and the front ends'.

The migrations' ``env.py`` and the test that compares the models with the migrations read
:func:`metadata`; it sits above the front ends because the desk and the scheduler own tables.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from pipeline import db as _stage_tables  # noqa: F401
from pipeline.admin import models as _admin_models  # noqa: F401
from pipeline.scheduler import models as _scheduler_models  # noqa: F401
from pulse_core.database import Base


def metadata() -> MetaData:
    """Metadata of every table, for Alembic."""
    return Base.metadata
