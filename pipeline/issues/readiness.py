"""Is the week's issue ready to go out? Per section: what is there, what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pipeline.config import Settings
from pipeline.content.models import JobListing, SalaryPoint, Section, Snippet, SnippetStatus
from pipeline.issues.models import Issue

MINIMUMS = {
    Section.EDITORS_NOTE: 1,
    Section.SALARY_PULSE: 1,
    Section.WHOS_HIRING: 1,
    Section.ROLE_INSIGHTS: 1,
    Section.QUICK_LINKS: 0,
}
MAXIMUMS = {
    Section.EDITORS_NOTE: 1,
    Section.SALARY_PULSE: 3,
    Section.WHOS_HIRING: 8,
    Section.ROLE_INSIGHTS: 4,
    Section.QUICK_LINKS: 6,
}
STALE_SALARY_DAYS = 45


@dataclass(frozen=True)
class SectionReadiness:
    section: Section
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
        return not self.problems and all(s.missing == 0 for s in self.sections)

    def as_text(self) -> str:
        lines = [f"Readiness of {self.week}: {'READY' if self.ready else 'NOT READY'}"]
        for s in self.sections:
            state = f"missing {s.missing}" if s.missing else "ok"
            lines.append(f"  {s.section.title:<15} {s.have} of min {s.minimum} ({state})")
        lines += [f"  problem: {problem}" for problem in self.problems]
        return "\n".join(lines)


def check_readiness(session: Session, *, week: str, settings: Settings, now: datetime) -> Readiness:
    """Count the week's content against each section's minimum."""
    issue_id = session.scalar(select(Issue.id).where(Issue.week_key == week))
    in_issue = Snippet.issue_id == issue_id if issue_id is not None else None
    waiting = (Snippet.status == SnippetStatus.READY) & or_(
        Snippet.target_week.is_(None), Snippet.target_week == week
    )
    condition = waiting if in_issue is None else or_(in_issue, waiting)
    counts = dict(
        session.execute(
            select(Snippet.section, func.count()).where(condition).group_by(Snippet.section)
        ).all()
    )
    jobs = session.scalar(
        select(func.count())
        .select_from(JobListing)
        .where(or_(JobListing.issue_id.is_(None), JobListing.issue_id == issue_id))
    )
    counts[Section.WHOS_HIRING] = counts.get(Section.WHOS_HIRING, 0) + int(jobs or 0)
    latest = session.scalar(select(func.max(SalaryPoint.as_of)))
    if latest is not None:
        counts[Section.SALARY_PULSE] = counts.get(Section.SALARY_PULSE, 0) + 1
    problems = []
    if latest is not None and latest < (now - timedelta(days=STALE_SALARY_DAYS)).date():
        problems.append(f"salary data is stale: newest point is from {latest.isoformat()}")
    sections = tuple(
        SectionReadiness(
            section=section,
            have=counts.get(section, 0),
            minimum=MINIMUMS[section],
            maximum=MAXIMUMS[section],
            missing=max(0, MINIMUMS[section] - counts.get(section, 0)),
        )
        for section in Section
    )
    return Readiness(week=week, sections=sections, problems=tuple(problems))
