"""Gather the week's ready content into an :class:`IssueView`, filling each section's slots.

Ready items fill a section's slots in editor-set order (``position``), oldest first; items
aimed at this week go before untargeted ones, because they cannot wait. What does not fit
stays ready for next week. Items aimed at another week are never taken.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, case, or_, select
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing, Section, Snippet, SnippetStatus
from pipeline.content.queue import target_roles_of
from pipeline.errors import ValidationError
from pipeline.issues.comparisons import list_comparisons, spec_of
from pipeline.issues.markdown import markdown_to_html, markdown_to_text, strip_controls
from pipeline.issues.salary import format_money as format_money  # re-exported for callers
from pipeline.issues.salary import format_pay, salary_table
from pipeline.issues.slots import DATA_SECTION_NOTES, DEFAULT_RULES, IssueRules
from pipeline.issues.view import IssueView, Item, Job, SalaryTable, SectionView
from pipeline.weeks import week_monday
from subscribers.display import check_header_text, neutralise_header_text

SUBJECT_MAX = 70
PREHEADER_MAX = 110
DEFAULT_PREHEADER = "Salary trends, who's hiring and role insights for AI Sales Engineers."
DATA_SECTIONS = (Section.SALARY_PULSE, Section.WHOS_HIRING)


@dataclass(frozen=True)
class Assembly:
    """A week's default view, the queue rows it uses, and what variants may tailor it with.

    ``available`` holds every snippet the week may use in issue order, those aimed at roles
    included (the default view shows untargeted ones only); ``table_regions`` and
    ``job_regions`` give the region of each of the view's tables and jobs, where known.
    """

    view: IssueView
    snippets: list[Snippet]
    jobs: list[JobListing]
    rules: IssueRules = DEFAULT_RULES
    available: tuple[Snippet, ...] = ()
    table_regions: tuple[str | None, ...] = ()
    job_regions: tuple[str | None, ...] = ()


def ready_snippets(session: Session, week: str, issue_id: int | None = None) -> list[Snippet]:
    """Snippets that may go into ``week``: ready and untargeted or aimed at it (plus any the
    week's issue already holds), aimed-at-this-week first, then editor order, oldest first."""
    available: ColumnElement[bool] = (Snippet.status == SnippetStatus.READY) & or_(
        Snippet.target_week.is_(None), Snippet.target_week == week
    )
    if issue_id is not None:
        available = or_(available, Snippet.issue_id == issue_id)
    query = (
        select(Snippet)
        .where(available)
        .order_by(
            case((Snippet.target_week.is_(None), 1), else_=0),
            Snippet.position,
            Snippet.created_at,
            Snippet.id,
        )
    )
    return list(session.scalars(query))


def open_jobs(session: Session, today: date, issue_id: int | None = None) -> list[JobListing]:
    """Listings not yet in any issue (or in this one) and not expired, oldest first."""
    unclaimed: ColumnElement[bool] = JobListing.issue_id.is_(None)
    if issue_id is not None:
        unclaimed = or_(unclaimed, JobListing.issue_id == issue_id)
    query = (
        select(JobListing)
        .where(unclaimed)
        .where(or_(JobListing.expires_on.is_(None), JobListing.expires_on >= today))
        .where(JobListing.closed_on.is_(None))  # the posting behind it has closed
        .order_by(JobListing.created_at, JobListing.id)
    )
    return list(session.scalars(query))


def job_view(job: JobListing) -> Job:
    location = strip_controls(job.location)
    remote_noted = "remote" in location.lower()
    where = f"{location} (remote)" if job.remote and not remote_noted else location
    comp = None
    if job.comp_low is not None and job.comp_high is not None:
        comp = format_pay(job.comp_low, job.comp_high, job.currency, job.comp_interval)
        if job.comp_basis == "ote":
            comp += " OTE"
    return Job(
        company=strip_controls(job.company),
        title=strip_controls(job.title),
        where=where,
        comp=comp,
        url=job.url,
    )


def item_view(snippet: Snippet) -> Item:
    return Item(
        title=strip_controls(snippet.title),
        body_html=markdown_to_html(snippet.body_md),
        body_text=markdown_to_text(snippet.body_md),
        link=snippet.link,
    )


def salary_tables(
    session: Session, *, as_of: date, rules: IssueRules, limit: int
) -> tuple[SalaryTable, ...]:
    """Tables of the editors' comparisons that have at least one figure to show."""
    return tuple(table for table, _region in regional_tables(session, as_of, rules, limit))


def regional_tables(
    session: Session, as_of: date, rules: IssueRules, limit: int
) -> list[tuple[SalaryTable, str | None]]:
    """:func:`salary_tables` with each table's comparison region (upper-cased, or None)."""
    tables = []
    for row in list_comparisons(session):
        spec = spec_of(row)
        table = salary_table(session, spec, as_of=as_of, min_points=rules.salary_min_points)
        if table.has_figures:
            tables.append((table, spec.region.strip().upper() if spec.region else None))
    return tables[:limit]


def for_role(snippet: Snippet, role: str | None) -> bool:
    """Untargeted snippets are for everyone; a targeted one only for its roles' variants."""
    roles = target_roles_of(snippet)
    return not roles or (role is not None and role in roles)


def section_views(
    available: Sequence[Snippet], rules: IssueRules, role: str | None = None
) -> tuple[tuple[SectionView, ...], list[Snippet]]:
    """Fill each section's slots from ``available`` (in order) for readers of ``role``."""
    by_section: dict[Section, list[Snippet]] = defaultdict(list)
    for snippet in available:
        if for_role(snippet, role):
            by_section[snippet.section].append(snippet)
    chosen: dict[Section, list[Snippet]] = {}
    for section in Section:
        cap = DATA_SECTION_NOTES if section in DATA_SECTIONS else rules.limits[section].maximum
        chosen[section] = by_section.get(section, [])[:cap]
    sections = tuple(
        SectionView(
            section=section,
            title=section.title,
            items=tuple(item_view(s) for s in chosen[section]),
        )
        for section in Section
    )
    return sections, [s for section in Section for s in chosen[section]]


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` at a word boundary so it fits ``limit`` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return cut + "…"


def default_subject(number: int, lead: str | None) -> str:
    """``AISE Pulse Brief #12: <lead item>``, at most 70 characters."""
    base = f"AISE Pulse Brief #{number}"
    # The lead's title is editor text bound for a header: made harmless, not refused.
    return shorten(f"{base}: {neutralise_header_text(lead)}", SUBJECT_MAX) if lead else base


def checked_subject(value: str | None, number: int, lead: str | None) -> str:
    if not value or not value.strip():
        return default_subject(number, lead)
    subject = " ".join(strip_controls(value).split())
    if len(subject) > SUBJECT_MAX:
        raise ValidationError("subject", f"must be at most {SUBJECT_MAX} characters")
    # Decoded encoded-words are checked too: the subject is written into a header.
    return check_header_text(subject, "subject")


_LINK_TARGET = re.compile(r"\s*\((?:https?|mailto):[^)\s]*\)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE)


def preheader_text(lead_text: str) -> str:
    """The lead's plain text as inbox prose: no link targets, list markers or line breaks."""
    text = _LIST_MARKER.sub("", _LINK_TARGET.sub("", lead_text))
    return " ".join(text.split())


def checked_preheader(value: str | None, lead_text: str | None) -> str:
    if not value or not value.strip():
        prose = preheader_text(lead_text) if lead_text else ""
        return shorten(prose, PREHEADER_MAX) if prose else DEFAULT_PREHEADER
    preheader = " ".join(strip_controls(value).split())
    if len(preheader) > PREHEADER_MAX:
        raise ValidationError("preheader", f"must be at most {PREHEADER_MAX} characters")
    return preheader


def assemble(
    session: Session,
    *,
    week: str,
    number: int,
    subject: str | None = None,
    preheader: str | None = None,
    rules: IssueRules = DEFAULT_RULES,
    issue_id: int | None = None,
) -> Assembly:
    """Fill the week's slots from the queue; nothing is claimed here (see ``build``)."""
    monday = week_monday(week)
    available = tuple(ready_snippets(session, week, issue_id))
    sections, used = section_views(available, rules)
    jobs = open_jobs(session, monday, issue_id)[: rules.limits[Section.WHOS_HIRING].maximum]
    tables = regional_tables(
        session, monday + timedelta(days=6), rules, rules.limits[Section.SALARY_PULSE].maximum
    )
    note = sections[0].items[0] if sections[0].items else None
    others = [item for s in sections[1:] for item in s.items]
    lead = note or (others[0] if others else None)
    view = IssueView(
        week_key=week,
        number=number,
        subject=checked_subject(subject, number, lead.title if lead else None),
        preheader=checked_preheader(preheader, lead.body_text if lead else None),
        sections=sections,
        salary_tables=tuple(table for table, _region in tables),
        jobs=tuple(job_view(job) for job in jobs),
    )
    return Assembly(
        view=view,
        snippets=used,
        jobs=jobs,
        rules=rules,
        available=available,
        table_regions=tuple(region for _table, region in tables),
        job_regions=tuple(rules.job_region(job.location) for job in jobs),
    )
