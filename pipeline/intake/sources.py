"""Adding, listing and removing the boards and feeds the intake reads."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.validate import required_text, web_url
from pipeline.errors import NotFoundError, ValidationError
from pipeline.intake.models import BOARD_KINDS, IntakeSource, SourceKind

# Board tokens as the three boards spell them (letters, digits, dot, dash, underscore).
_BOARD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def parse_board_kind(value: str) -> SourceKind:
    kind = value.strip().lower()
    for candidate in BOARD_KINDS:
        if candidate.value == kind:
            return candidate
    raise ValidationError("kind", "must be one of greenhouse, lever, ashby")


def board_token(value: str) -> str:
    token = value.strip()
    if not _BOARD.match(token):
        raise ValidationError(
            "board", f"{value!r} is not a board name (letters, digits, '.', '-', '_'; max 100)"
        )
    return token


def add_board(
    session: Session, *, kind: str, board: str, company: str, auto_accept: bool = False
) -> IntakeSource:
    """A job board to fetch; the same board cannot be added twice."""
    source = IntakeSource(
        kind=parse_board_kind(kind),
        board=board_token(board),
        company=required_text(company, "company", max_length=200),
        auto_accept=auto_accept,
    )
    return _insert(session, source)


def add_feed(session: Session, *, url: str, auto_accept: bool = False) -> IntakeSource:
    """An RSS or Atom feed whose new items become Quick Links proposals."""
    source = IntakeSource(kind=SourceKind.FEED, board=web_url(url, "url"), auto_accept=auto_accept)
    return _insert(session, source)


def _insert(session: Session, source: IntakeSource) -> IntakeSource:
    duplicate = session.scalar(
        select(IntakeSource.id).where(
            IntakeSource.kind == source.kind, IntakeSource.board == source.board
        )
    )
    if duplicate is not None:
        raise ValidationError("board", f"{source.kind.value} {source.board} is already a source")
    session.add(source)
    session.flush()
    return source


def list_sources(session: Session, *, feeds: bool | None = None) -> list[IntakeSource]:
    """Sources in the order they were added; ``feeds`` picks feeds (True) or boards (False)."""
    query = select(IntakeSource).order_by(IntakeSource.id)
    if feeds is True:
        query = query.where(IntakeSource.kind == SourceKind.FEED)
    elif feeds is False:
        query = query.where(IntakeSource.kind != SourceKind.FEED)
    return list(session.scalars(query))


def remove_source(session: Session, *, kind: str, board: str) -> None:
    """Forget a source and its open proposals; accepted listings stay listed."""
    source_kind = SourceKind.FEED if kind == "feed" else parse_board_kind(kind)
    source = session.scalar(
        select(IntakeSource).where(
            IntakeSource.kind == source_kind, IntakeSource.board == board.strip()
        )
    )
    if source is None:
        raise NotFoundError(f"no {source_kind.value} source {board.strip()!r}")
    session.delete(source)
    session.flush()


def source_label(source: IntakeSource) -> str:
    """``greenhouse:acme`` or ``feed:https://…`` — how records name their source."""
    return f"{source.kind.value}:{source.board}"
