"""Is the week's issue ready? Per section what is there and what is missing, plus problems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.content.models import SalaryPoint, Section
from pipeline.errors import PulseError
from pipeline.issues.build import draft_issue, find_issue
from pipeline.issues.comparisons import list_comparisons
from pipeline.issues.lint import LintConfig, lint_issue
from pipeline.issues.render import Footer
from pipeline.issues.slots import IssueRules
from pipeline.issues.view import IssueView, view_from_json

# What an editor adds to fill each section, for the report.
HOW_TO_ADD = {
    Section.EDITORS_NOTE: "pulse content add --section editors-note",
    Section.SALARY_PULSE: "pulse salary add/import (and `pulse salary comparison set`)",
    Section.WHOS_HIRING: "pulse jobs add (or pulse jobs fetch, then pulse jobs accept)",
    Section.ROLE_INSIGHTS: "pulse content add --section role-insights",
    Section.QUICK_LINKS: "pulse content add --section quick-links",
}
NOUNS = {Section.SALARY_PULSE: "salary table", Section.WHOS_HIRING: "job listing"}


@dataclass(frozen=True)
class ReadinessConfig:
    """What readiness needs: the section rules, lint's config, the footer drafts get."""

    rules: IssueRules
    lint: LintConfig
    footer: Footer


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
        """A report for editors: each section's count against its limits, then problems."""
        lines = [f"Issue {self.week}: {'ready' if self.ready else 'NOT ready'}"]
        for s in self.sections:
            noun = NOUNS.get(s.section, "item")
            state = "ok" if s.missing == 0 else f"missing {s.missing} {noun}(s)"
            lines.append(
                f"  {s.section.title:<14} {s.have} of {s.minimum}–{s.maximum} {noun}s: {state}"
            )
            if s.missing:
                lines.append(f"    add with: {HOW_TO_ADD[s.section]}")
        if self.problems:
            lines.append("Problems:")
            lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


def count_items(view: IssueView, section: Section) -> int:
    """How many items ``section`` holds in ``view`` (tables and listings for data sections)."""
    if section is Section.SALARY_PULSE:
        return sum(1 for table in view.salary_tables if table.has_figures)
    if section is Section.WHOS_HIRING:
        return len(view.jobs)
    return len(view.section(section).items)


def section_readiness(view: IssueView, rules: IssueRules) -> tuple[SectionReadiness, ...]:
    out = []
    for section in Section:
        limits = rules.limits[section]
        have = count_items(view, section)
        out.append(
            SectionReadiness(
                section=section,
                have=have,
                minimum=limits.minimum,
                maximum=limits.maximum,
                missing=max(limits.minimum - have, 0),
            )
        )
    return tuple(out)


def stale_salary_problem(session: Session, rules: IssueRules, now: datetime) -> str | None:
    """Salary data whose newest point is older than the configured age is a problem."""
    roles = {role for row in list_comparisons(session) for role, _heading in row.columns}
    query = select(func.max(SalaryPoint.as_of))
    if roles:
        query = query.where(SalaryPoint.role.in_(roles))
    newest = session.scalar(query)
    if newest is None:
        return "no salary data recorded yet"
    age = (now.date() - newest).days
    if age > rules.salary_stale_days:
        return (
            f"salary data is stale: newest point is from {newest.isoformat()} ({age} days old; "
            f"PULSE_SALARY_STALE_DAYS is {rules.salary_stale_days})"
        )
    if not roles:
        return "no salary comparison defined; add one with `pulse salary comparison set`"
    return None


def check_readiness(
    session: Session, *, week: str, config: ReadinessConfig, now: datetime
) -> Readiness:
    """Check the built issue of ``week`` or, if none is built yet, the one that would be.

    The one verdict on an issue: its sections against the rules, stale salary data, and
    every lint problem. The caller rolls back afterwards (a draft claims nothing, but
    assembling reads the queue inside the caller's transaction).
    """
    rules = config.rules
    problems: list[str] = []
    stale = stale_salary_problem(session, rules, now)
    if stale:
        problems.append(stale)
    built = find_issue(session, week)
    try:
        if built is not None and built.view_json:
            issue, view = built, view_from_json(built.view_json)
        else:
            issue, view = draft_issue(session, week=week, footer=config.footer, rules=rules)
    except PulseError as err:
        problems.append(str(err))
        return Readiness(week=week, sections=(), problems=tuple(problems))
    problems += lint_issue(issue, config.lint)
    return Readiness(week=week, sections=section_readiness(view, rules), problems=tuple(problems))
