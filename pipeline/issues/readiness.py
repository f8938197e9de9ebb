"""Is the week's issue ready to send? What each section has, and what it still lacks.

A small first version: ready snippets per section against a minimum of one, plus the
presence of open job listings and recent salary data points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pipeline.config import Settings
from pipeline.content.models import JobListing, SalaryPoint, Section, Snippet, SnippetStatus
from pipeline.issues.assemble import SALARY_WINDOW_DAYS
from pipeline.issues.models import Issue
from pipeline.issues.weeks import week_monday

MINIMUM_PER_SECTION = 1
MAXIMUM_PER_SECTION = 6


@dataclass(frozen=True)
class SectionReadiness:
    """How many items a section has against what it needs."""

    section: str
    have: int
    minimum: int
    maximum: int
    missing: int


@dataclass(frozen=True)
class Readiness:
    week: str
    sections: tuple[SectionReadiness, ...]
    problems: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.problems

    def as_text(self) -> str:
        lines = [f"{self.week}: {'ready' if self.ready else 'not ready'}"]
        for item in self.sections:
            note = f" (needs {item.missing} more)" if item.missing else ""
            lines.append(f"  {item.section}: {item.have}/{item.minimum}{note}")
        lines.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(lines)


def _snippet_counts(session: Session, week: str) -> dict[Section, int]:
    issue_id = session.scalar(select(Issue.id).where(Issue.week_key == week))
    # Queued for the week, or already placed in the week's built issue.
    wanted = (Snippet.status == SnippetStatus.READY) & or_(
        Snippet.target_week.is_(None), Snippet.target_week == week
    )
    if issue_id is not None:
        wanted = wanted | (Snippet.issue_id == issue_id)
    rows = session.execute(
        select(Snippet.section, func.count()).where(wanted).group_by(Snippet.section)
    )
    return {section: count for section, count in rows}


def check_readiness(session: Session, *, week: str, settings: Settings, now: datetime) -> Readiness:
    """Count the week's content per section and list what is missing."""
    monday = week_monday(week)
    counts = _snippet_counts(session, week)
    sections = []
    problems = []
    for section in Section:
        have = counts.get(section, 0)
        missing = max(0, MINIMUM_PER_SECTION - have)
        sections.append(
            SectionReadiness(section.value, have, MINIMUM_PER_SECTION, MAXIMUM_PER_SECTION, missing)
        )
        if missing:
            problems.append(f"{section.title}: needs {missing} more ready snippet(s)")
        elif have > MAXIMUM_PER_SECTION:
            problems.append(f"{section.title}: {have} snippets, more than {MAXIMUM_PER_SECTION}")
    issue_id = session.scalar(select(Issue.id).where(Issue.week_key == week))
    open_jobs = session.scalar(
        select(func.count())
        .select_from(JobListing)
        .where(
            or_(JobListing.issue_id.is_(None), JobListing.issue_id == issue_id)
            if issue_id is not None
            else JobListing.issue_id.is_(None)
        )
        .where(or_(JobListing.expires_on.is_(None), JobListing.expires_on >= monday))
    )
    if not open_jobs:
        problems.append("Who's Hiring: no open job listings")
    sunday = monday + timedelta(days=6)
    points = session.scalar(
        select(func.count())
        .select_from(SalaryPoint)
        .where(SalaryPoint.as_of >= sunday - timedelta(days=SALARY_WINDOW_DAYS))
        .where(SalaryPoint.as_of <= sunday)
    )
    if not points:
        problems.append(
            f"Salary Pulse: no salary data points in the last {SALARY_WINDOW_DAYS} days"
        )
    return Readiness(week=week, sections=tuple(sections), problems=tuple(problems))
