"""Editing the queue from the desk: change, reorder and retire snippets."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.models import SalaryPoint, Snippet, SnippetStatus
from pipeline.content.queue import (
    clean_body,
    next_position,
    parse_section,
    parse_snippet_status,
    parse_target_roles,
)
from pipeline.content.validate import optional_url, required_text
from pipeline.errors import NotFoundError, ValidationError
from pipeline.issues.models import Issue
from pipeline.issues.salary import LOOKBACK_DAYS
from pipeline.weeks import parse_week, week_monday


def get_snippet(session: Session, snippet_id: int) -> Snippet:
    snippet = session.get(Snippet, snippet_id)
    if snippet is None:
        raise NotFoundError(f"no snippet {snippet_id}")
    return snippet


def _editable(snippet: Snippet) -> None:
    if snippet.status is SnippetStatus.USED:
        raise ValidationError("snippet", "it is part of an issue already and can no longer change")


def update_snippet(
    session: Session,
    snippet: Snippet,
    *,
    section: str,
    title: str,
    body: str,
    link: str | None,
    status: str,
    target_week: str | None,
    target_roles: str | None = None,
) -> Snippet:
    """Validate every field first, then change the snippet (all or nothing).

    ``target_roles`` (``ai-se,se-manager``; blank: everyone) is set as given, like the rest.
    """
    _editable(snippet)
    new_section = parse_section(section)
    new_title = required_text(title, "title", max_length=200)
    new_body = clean_body(body)
    new_link = optional_url(link, "link")
    new_status = parse_snippet_status(status)
    new_roles = parse_target_roles(target_roles)
    week = (
        parse_week(target_week, field="target_week")
        if target_week and target_week.strip()
        else None
    )
    if new_section is not snippet.section:
        snippet.position = next_position(session, new_section.value)
    snippet.section = new_section
    snippet.title = new_title
    snippet.body_md = new_body
    snippet.link = new_link
    snippet.status = new_status
    snippet.target_week = week
    snippet.target_roles = new_roles
    snippet.retired_at = None
    session.flush()
    return snippet


def queued_in_section(session: Session, snippet: Snippet) -> list[Snippet]:
    """The section's snippets that are still in the queue, in issue order."""
    query = (
        select(Snippet)
        .where(Snippet.section == snippet.section)
        .where(Snippet.status != SnippetStatus.USED)
        .where(Snippet.retired_at.is_(None))
        .order_by(Snippet.position, Snippet.created_at, Snippet.id)
    )
    return list(session.scalars(query))


def move_snippet(session: Session, snippet: Snippet, direction: str) -> None:
    """Swap the snippet with its neighbour in the section and renumber the section."""
    if direction not in ("up", "down"):
        raise ValidationError("direction", "must be up or down")
    _editable(snippet)
    order = queued_in_section(session, snippet)
    index = next(i for i, item in enumerate(order) if item.id == snippet.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    for position, item in enumerate(order):
        item.position = position
    session.flush()


def retire_snippet(session: Session, snippet: Snippet, now: datetime) -> None:
    """Take a snippet out of the queue for good; it is kept (as a draft) for the record."""
    _editable(snippet)
    snippet.status = SnippetStatus.DRAFT
    snippet.retired_at = now
    session.flush()


def salary_usage(session: Session, points: list[SalaryPoint]) -> dict[int, list[str]]:
    """Point id → weeks of the issues whose salary table included it.

    An issue's tables draw on the points dated within the look-back window that existed
    when it was built (see :func:`pipeline.issues.salary.current_and_previous`).
    """
    issues = session.execute(select(Issue.week_key, Issue.built_at).order_by(Issue.number)).all()
    usage: dict[int, list[str]] = {}
    for point in points:
        weeks = []
        for week, built_at in issues:
            sunday = week_monday(week) + timedelta(days=6)
            in_window = sunday - timedelta(days=LOOKBACK_DAYS) <= point.as_of <= sunday
            if in_window and point.created_at <= built_at:
                weeks.append(week)
        usage[point.id] = weeks
    return usage


def issue_weeks(session: Session) -> dict[int, str]:
    """Issue id → week key, to show which issue used an item."""
    return {issue_id: week for issue_id, week in session.execute(select(Issue.id, Issue.week_key))}
