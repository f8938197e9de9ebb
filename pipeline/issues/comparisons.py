"""Salary comparisons the editors maintain: which roles and levels a Salary Pulse table shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pipeline.content.models import PayBasis, SalaryPoint
from pipeline.content.validate import required_text
from pipeline.errors import NotFoundError, ValidationError
from pulse_core.database import Base, UTCDateTime, utcnow

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


class SalaryComparison(Base):
    """One Salary Pulse table: a row per level, a column per role."""

    __tablename__ = "salary_comparisons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    first_column: Mapped[str] = mapped_column(String(60), default="Level")
    # Levels top to bottom, e.g. ["Mid-level", "Senior", "Staff / Principal"].
    levels: Mapped[list[str]] = mapped_column(JSON)
    # [[role as recorded in salary points, column heading], ...]
    columns: Mapped[list[list[str]]] = mapped_column(JSON)
    region: Mapped[str | None] = mapped_column(String(100))
    # Only data points of this pay basis (base, ote or total) feed the table.
    pay_basis: Mapped[str] = mapped_column(String(5), default="total", server_default="total")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class ComparisonSpec:
    """A comparison as the assembly reads it (detached from the session)."""

    key: str
    title: str
    first_column: str
    levels: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    region: str | None = None
    pay_basis: str = "total"


def spec_of(row: SalaryComparison) -> ComparisonSpec:
    return ComparisonSpec(
        key=row.key,
        title=row.title,
        first_column=row.first_column,
        levels=tuple(row.levels),
        columns=tuple((role, label) for role, label in row.columns),
        region=row.region,
        pay_basis=row.pay_basis,
    )


def parse_column(value: str) -> tuple[str, str]:
    """``"AI Sales Engineer=AI SE total comp"`` → (role, heading)."""
    role, sep, label = value.partition("=")
    if not sep:
        raise ValidationError("column", f"{value!r} must look like 'ROLE=Column heading'")
    return (
        required_text(role, "column role", max_length=100),
        required_text(label, "column heading", max_length=60),
    )


def parse_pay_basis(value: str) -> str:
    """``base``, ``ote`` or ``total``; the error lists them."""
    basis = value.strip().lower()
    if basis not in {b.value for b in PayBasis}:
        raise ValidationError("pay_basis", "must be one of base, ote, total")
    return basis


def save_comparison(
    session: Session,
    *,
    key: str,
    title: str,
    levels: list[str],
    columns: list[str],
    first_column: str = "Level",
    region: str | None = None,
    position: int = 0,
    pay_basis: str = "total",
) -> SalaryComparison:
    """Add a comparison, or replace the one with the same ``key``."""
    clean_key = key.strip().lower()
    if not _KEY.match(clean_key):
        raise ValidationError("key", "use lower-case letters, digits and dashes (max 60)")
    clean_levels = [required_text(level, "level", max_length=50) for level in levels]
    if not clean_levels:
        raise ValidationError("level", "give at least one level")
    if len(set(clean_levels)) != len(clean_levels):
        raise ValidationError("level", "each level may appear once")
    parsed = [parse_column(column) for column in columns]
    if not parsed:
        raise ValidationError("column", "give at least one column")
    clean_region = region.strip() if region and region.strip() else None
    basis = parse_pay_basis(pay_basis)
    refuse_unfillable(session, clean_levels, [role for role, _ in parsed], clean_region, basis)
    row = session.scalar(select(SalaryComparison).where(SalaryComparison.key == clean_key))
    values: dict[str, Any] = {
        "title": required_text(title, "title", max_length=200),
        "first_column": required_text(first_column, "first_column", max_length=60),
        "levels": clean_levels,
        "columns": [[role, label] for role, label in parsed],
        "region": clean_region,
        "position": position,
        "pay_basis": basis,
    }
    if row is None:
        row = SalaryComparison(key=clean_key, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    return row


def refuse_unfillable(
    session: Session,
    levels: list[str],
    roles: list[str],
    region: str | None,
    pay_basis: str = "total",
) -> None:
    """Refuse a table no data point can fill, or a column no data point matches.

    A misspelled role or region otherwise shows up days later as a table of "not enough
    data"; saying so now, with the names the data does use, lets the editor fix it.
    """
    # A table pools only points of its own pay basis, so only those can fill it.
    query = (
        select(SalaryPoint.role, SalaryPoint.level, SalaryPoint.region)
        .where(SalaryPoint.pay_basis == pay_basis)
        .distinct()
    )
    known = session.execute(query).all()
    where = f" in region {region!r}" if region else ""
    matching = [
        (role, level)
        for role, level, point_region in known
        if role in roles and level in levels and (region is None or point_region == region)
    ]
    fix = (
        f"the data has roles {_names({r for r, _l, _g in known})}, levels "
        f"{_names({lv for _r, lv, _g in known})} and regions {_names({g for _r, _l, g in known})}; "
        "fix the spelling, or add data points first (`pulse salary add` / `import`)"
    )
    if not matching:
        raise ValidationError(
            "column", f"no salary data points fit these roles and levels{where}; {fix}"
        )
    empty = [role for role in roles if role not in {r for r, _l in matching}]
    if empty:
        raise ValidationError(
            "column", f"no salary data points for role(s) {_names(set(empty))}{where}; {fix}"
        )


def _names(values: set[str]) -> str:
    if not values:
        return "none"
    shown = sorted(values)[:12]
    return ", ".join(repr(v) for v in shown) + (" …" if len(values) > 12 else "")


def list_comparisons(session: Session) -> list[SalaryComparison]:
    query = select(SalaryComparison).order_by(
        SalaryComparison.position, SalaryComparison.created_at, SalaryComparison.id
    )
    return list(session.scalars(query))


def remove_comparison(session: Session, key: str) -> None:
    row = session.scalar(select(SalaryComparison).where(SalaryComparison.key == key.strip()))
    if row is None:
        raise NotFoundError(f"no salary comparison with key {key!r}")
    session.delete(row)
    session.flush()
