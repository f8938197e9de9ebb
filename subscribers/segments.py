"""Segments: readers grouped by their profile, for counts, exports and reports.

A segment is written ``role=ai-se,level=senior`` (the CLI, the desk's links): each part a
profile field and one of its listed values, or ``none`` for readers who did not say.
Values go through the same cleaning as the forms, so a segment can only ever name a
value the lists hold; counting is one GROUP BY per field, never a row at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from pulse_core.errors import ValidationError
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.profile import PROFILE_FIELDS, clean_profile

# In a segment: the reader left this field blank.
UNSET = "none"
MAX_SEGMENT_LENGTH = 300


def profile_column(name: str) -> InstrumentedAttribute[str | None]:
    """The ``subscribers`` column of profile field ``name`` (a ValidationError otherwise)."""
    if name not in PROFILE_FIELDS:
        raise ValidationError("by", f"choose one of {', '.join(PROFILE_FIELDS)}")
    column: InstrumentedAttribute[str | None] = getattr(Subscriber, name)
    return column


@dataclass(frozen=True)
class Segment:
    """Field → value (``None``: did not say); an empty segment is everyone."""

    parts: tuple[tuple[str, str | None], ...] = ()

    def where(self) -> list[ColumnElement[bool]]:
        """The SQL conditions selecting this segment's subscribers."""
        return [
            profile_column(name).is_(None) if value is None else profile_column(name) == value
            for name, value in self.parts
        ]

    def describe(self) -> str:
        return ",".join(f"{n}={v or UNSET}" for n, v in self.parts) or "everyone"


def parse_segment(text: str) -> Segment:
    """``role=ai-se,level=senior`` → a :class:`Segment`; bad parts name the field."""
    if len(text) > MAX_SEGMENT_LENGTH:
        raise ValidationError("segment", f"is longer than {MAX_SEGMENT_LENGTH} characters")
    parts: dict[str, str | None] = {}
    for raw in (p for p in text.split(",") if p.strip()):
        name, sep, value = raw.partition("=")
        name = name.strip().lower()
        if not sep or name not in PROFILE_FIELDS:
            raise ValidationError(
                "segment", f"write field=value with a field among {', '.join(PROFILE_FIELDS)}"
            )
        if name in parts:
            raise ValidationError("segment", f"{name} is given twice")
        if value.strip().lower() == UNSET:
            parts[name] = None
            continue
        cleaned = getattr(clean_profile({name: value}), name)
        if cleaned is None:
            raise ValidationError(name, f"give a value, or {UNSET} for readers who did not say")
        parts[name] = cleaned
    return Segment(tuple(parts.items()))


def segment_counts(
    session: Session, by: str, *, status: SubscriberStatus | None = SubscriberStatus.ACTIVE
) -> list[tuple[str | None, int]]:
    """``(value, subscribers)`` for field ``by``, largest first (``None``: did not say)."""
    column = profile_column(by)
    query = select(column, func.count()).group_by(column)
    if status is not None:
        query = query.where(Subscriber.status == status)
    rows = [(value, int(count)) for value, count in session.execute(query)]
    return sorted(rows, key=lambda row: (-row[1], row[0] or "~"))


def all_segment_counts(
    session: Session, *, status: SubscriberStatus | None = SubscriberStatus.ACTIVE
) -> dict[str, list[tuple[str | None, int]]]:
    """:func:`segment_counts` for every profile field."""
    return {name: segment_counts(session, name, status=status) for name in PROFILE_FIELDS}
