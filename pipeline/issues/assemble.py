"""Gather the week's ready content into an :class:`IssueView`."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing, SalaryPoint, Section, Snippet, SnippetStatus
from pipeline.issues.markdown import markdown_to_html, markdown_to_text
from pipeline.issues.view import (
    IssueView,
    Item,
    Job,
    SalaryCell,
    SalaryRow,
    SalaryTable,
    SectionView,
)
from pipeline.issues.weeks import week_monday

LEVELS = ("Mid-level", "Senior", "Staff / Principal")
COMPARED_ROLES = (("AI Sales Engineer", "AI SE total comp"), ("ML Engineer", "MLE total comp"))
SALARY_WINDOW_DAYS = 120


def ready_snippets(session: Session, week: str) -> list[Snippet]:
    """Ready snippets for ``week``: untargeted or targeted at it, in editor order."""
    query = (
        select(Snippet)
        .where(Snippet.status == SnippetStatus.READY)
        .where(or_(Snippet.target_week.is_(None), Snippet.target_week == week))
        .order_by(Snippet.position, Snippet.created_at, Snippet.id)
    )
    return list(session.scalars(query))


def open_jobs(session: Session, today: date) -> list[JobListing]:
    """Listings not yet in an issue and not expired."""
    query = (
        select(JobListing)
        .where(JobListing.issue_id.is_(None))
        .where(or_(JobListing.expires_on.is_(None), JobListing.expires_on >= today))
        .order_by(JobListing.created_at, JobListing.id)
    )
    return list(session.scalars(query))


def format_money(amount: int, currency: str) -> str:
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{round(amount / 1000)}K"


def salary_table(session: Session, as_of: date) -> SalaryTable | None:
    """AI SE vs MLE total compensation by level, from recent data points."""
    since = as_of - timedelta(days=SALARY_WINDOW_DAYS)
    points = session.scalars(
        select(SalaryPoint).where(SalaryPoint.as_of >= since).where(SalaryPoint.as_of <= as_of)
    ).all()
    if not points:
        return None
    grouped: dict[tuple[str, str], list[SalaryPoint]] = defaultdict(list)
    for point in points:
        grouped[(point.role, point.level)].append(point)
    rows = []
    for level in LEVELS:
        cells = []
        for role, _column in COMPARED_ROLES:
            group = grouped.get((role, level), [])
            if not group:
                cells.append(SalaryCell("not enough data"))
                continue
            low = round(sum(p.low for p in group) / len(group))
            high = round(sum(p.high for p in group) / len(group))
            currency = group[0].currency
            cells.append(
                SalaryCell(f"{format_money(low, currency)}–{format_money(high, currency)}")
            )
        rows.append(SalaryRow(level=level, cells=tuple(cells)))
    sources = sorted({p.source for p in points})
    return SalaryTable(
        title="Total compensation by level",
        columns=("Level", *(column for _role, column in COMPARED_ROLES)),
        rows=tuple(rows),
        source="Source: " + "; ".join(sources),
    )


def job_view(job: JobListing) -> Job:
    remote_noted = "remote" in job.location.lower()
    where = f"{job.location} (remote)" if job.remote and not remote_noted else job.location
    comp = None
    if job.comp_low is not None and job.comp_high is not None:
        low, high = (format_money(v, job.currency) for v in (job.comp_low, job.comp_high))
        comp = f"{low}–{high}"
    return Job(company=job.company, title=job.title, where=where, comp=comp, url=job.url)


def assemble_issue(
    session: Session, *, week: str, number: int, subject: str | None, preheader: str | None
) -> tuple[IssueView, list[Snippet], list[JobListing]]:
    """Build the view of ``week`` and return the snippets and jobs it uses."""
    monday = week_monday(week)
    snippets = ready_snippets(session, week)
    by_section: dict[Section, list[Snippet]] = defaultdict(list)
    for snippet in snippets:
        by_section[snippet.section].append(snippet)
    sections = tuple(
        SectionView(
            section=section,
            title=section.title,
            items=tuple(
                Item(
                    title=s.title,
                    body_html=markdown_to_html(s.body_md),
                    body_text=markdown_to_text(s.body_md),
                    link=s.link,
                )
                for s in by_section.get(section, [])
            ),
        )
        for section in Section
    )
    jobs = open_jobs(session, monday)
    table = salary_table(session, monday + timedelta(days=6))
    lead = next((s.title for s in snippets if s.section is not Section.EDITORS_NOTE), None)
    default_subject = f"AISE Pulse Brief #{number}" + (f": {lead}" if lead else "")
    view = IssueView(
        week_key=week,
        number=number,
        subject=subject or default_subject[:70],
        preheader=preheader
        or "Salary trends, who's hiring and role insights for AI Sales Engineers.",
        sections=sections,
        salary_tables=(table,) if table else (),
        jobs=tuple(job_view(job) for job in jobs),
    )
    return view, snippets, jobs
