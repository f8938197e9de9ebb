"""The editors' queue: adding and listing snippets, salary data points and job listings."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing, SalaryPoint, Section, Snippet, SnippetStatus
from pipeline.content.validate import (
    currency_code,
    iso_date,
    optional_url,
    positive_int,
    range_pair,
    required_text,
    web_url,
)
from pipeline.errors import AlreadyExists, ImportFileError, ValidationError
from pipeline.weeks import parse_week
from subscribers.profile import ROLES, clean_choice


def parse_section(value: str) -> Section:
    """A section by its name; the error lists the valid ones."""
    try:
        return Section(value.strip().lower())
    except ValueError as err:
        valid = ", ".join(s.value for s in Section)
        raise ValidationError(
            "section", f"unknown section {value!r}; choose one of {valid}"
        ) from err


def parse_snippet_status(value: str) -> SnippetStatus:
    allowed = (SnippetStatus.DRAFT, SnippetStatus.READY)
    for status in allowed:
        if status.value == value.strip().lower():
            return status
    raise ValidationError("status", f"must be one of {', '.join(s.value for s in allowed)}")


def parse_target_roles(value: str | None, field: str = "target_roles") -> str | None:
    """``ai-se,se-manager`` → the roles a snippet is for, in ``ROLES`` order; blank: everyone."""
    if value is None or not value.strip():
        return None
    chosen = {clean_choice(part, ROLES, field) for part in value.split(",") if part.strip()}
    return ",".join(role for role in ROLES if role in chosen) or None


def target_roles_of(snippet: Snippet) -> frozenset[str]:
    """The roles a snippet is aimed at (empty: everyone)."""
    return frozenset(snippet.target_roles.split(",")) if snippet.target_roles else frozenset()


MAX_BODY = 20_000


def clean_body(body: str) -> str:
    """Snippet Markdown: bounded, and free of control characters no database stores well."""
    text = body.strip()
    if len(text) > MAX_BODY:
        raise ValidationError("body", "must be at most 20,000 characters")
    if any((ord(ch) < 32 and ch not in "\n\r\t") or 0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise ValidationError("body", "must not contain control characters")
    return text


def next_position(session: Session, section: str | Section) -> int:
    """One past the last queued snippet of the section: new snippets go to the end."""
    chosen = section if isinstance(section, Section) else parse_section(section)
    positions = session.scalars(select(Snippet.position).where(Snippet.section == chosen)).all()
    return max(positions, default=-1) + 1


def add_snippet(
    session: Session,
    *,
    section: str,
    title: str,
    body: str = "",
    link: str | None = None,
    status: str = "ready",
    target_week: str | None = None,
    position: int | None = None,
    target_roles: str | None = None,
) -> Snippet:
    """Queue a snippet after validating every field; the CLI, the desk and the API call this.

    Without ``position`` it goes to the end of its section. ``target_roles`` aims it at some
    readers' roles (see pipeline/issues/variants.py).
    """
    chosen = parse_section(section)
    snippet = Snippet(
        section=chosen,
        title=required_text(title, "title", max_length=200),
        body_md=clean_body(body) if body else "",
        link=optional_url(link, "link"),
        status=parse_snippet_status(status),
        target_week=parse_week(target_week, field="target_week") if target_week else None,
        position=next_position(session, chosen) if position is None else position,
        target_roles=parse_target_roles(target_roles),
    )
    session.add(snippet)
    session.flush()
    return snippet


def list_snippets(session: Session, *, section: str | None = None) -> list[Snippet]:
    query = select(Snippet).order_by(Snippet.section, Snippet.position, Snippet.created_at)
    if section:
        query = query.where(Snippet.section == parse_section(section))
    return list(session.scalars(query))


@dataclass(frozen=True)
class SalaryInput:
    """A salary data point as typed by an editor or read from a CSV row."""

    role: str
    level: str
    currency: str
    low: str | int
    high: str | int
    region: str
    source: str
    sample_size: str | int
    as_of: str | date


SALARY_COLUMNS = (
    "role",
    "level",
    "currency",
    "low",
    "high",
    "region",
    "source",
    "sample_size",
    "as_of",
)


def salary_point(data: SalaryInput) -> SalaryPoint:
    """Validate a salary input into an unsaved row."""
    low = positive_int(data.low, "low")
    high = positive_int(data.high, "high")
    range_pair(low, high)
    return SalaryPoint(
        role=required_text(data.role, "role", max_length=100),
        level=required_text(data.level, "level", max_length=50),
        currency=currency_code(data.currency),
        low=low,
        high=high,
        region=required_text(data.region, "region", max_length=100),
        source=required_text(data.source, "source", max_length=200),
        sample_size=positive_int(data.sample_size, "sample_size"),
        as_of=iso_date(data.as_of, "as_of"),
    )


def add_salary_point(session: Session, data: SalaryInput) -> SalaryPoint:
    point = salary_point(data)
    session.add(point)
    session.flush()
    return point


def read_salary_csv(stream: TextIO) -> Iterator[tuple[int, SalaryPoint]]:
    """Yield (line, row) for each CSV row; raise :class:`ImportFileError` on the first bad one."""
    reader = csv.DictReader(stream)
    try:
        # Excel's UTF-8 BOM and spreadsheet-style headers ("Sample Size") are accepted.
        header = [
            "_".join(name.lstrip("\ufeff").strip().lower().replace("-", " ").split())
            for name in reader.fieldnames or []
        ]
    except csv.Error as err:  # e.g. a cell over the csv module's 128 KB field limit
        raise ImportFileError(
            max(reader.line_num, 1), "file", f"is not readable CSV ({err})"
        ) from err
    missing = [column for column in SALARY_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(1, missing[0], f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    for row in _csv_rows(reader):
        line = reader.line_num
        if None in row:
            raise ImportFileError(line, "row", "has more cells than the header")
        try:
            values = {column: (row.get(column) or "") for column in SALARY_COLUMNS}
            yield line, salary_point(SalaryInput(**values))
        except ValidationError as err:
            raise ImportFileError(line, err.field, err.message) from err


def _csv_rows(reader: csv.DictReader[str]) -> Iterator[dict[str, str]]:
    """The reader's rows, with the csv module's own errors turned into a line-named one."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ImportFileError(reader.line_num, "file", f"is not readable CSV ({err})") from err
        yield row


def import_salary_csv(session: Session, stream: TextIO) -> int:
    """Add every row of the file inside the caller's transaction; any bad line aborts all."""
    count = 0
    for _line, point in read_salary_csv(stream):
        session.add(point)
        count += 1
        if count % 1000 == 0:
            session.flush()
    session.flush()
    return count


def list_salary_points(session: Session, limit: int = 100) -> list[SalaryPoint]:
    query = select(SalaryPoint).order_by(SalaryPoint.as_of.desc(), SalaryPoint.id.desc())
    return list(session.scalars(query.limit(limit)))


def add_job(
    session: Session,
    *,
    company: str,
    title: str,
    location: str,
    url: str,
    remote: bool = False,
    comp_low: int | None = None,
    comp_high: int | None = None,
    currency: str = "USD",
    expires_on: str | date | None = None,
) -> JobListing:
    """Queue a job listing; the same URL cannot be listed twice."""
    clean_url = web_url(url, "url")
    if session.scalar(select(JobListing.id).where(JobListing.url == clean_url)) is not None:
        raise AlreadyExists("url", f"{clean_url} is already listed")
    if (comp_low is None) != (comp_high is None):
        raise ValidationError("comp", "give both comp_low and comp_high, or neither")
    if comp_low is not None and comp_high is not None:
        comp_low = positive_int(comp_low, "comp_low")
        comp_high = positive_int(comp_high, "comp_high")
        range_pair(comp_low, comp_high, "comp_high")
    job = JobListing(
        company=required_text(company, "company", max_length=200),
        title=required_text(title, "title", max_length=200),
        location=required_text(location, "location", max_length=200),
        remote=remote,
        comp_low=comp_low,
        comp_high=comp_high,
        currency=currency_code(currency),
        url=clean_url,
        expires_on=iso_date(expires_on, "expires_on") if expires_on else None,
    )
    session.add(job)
    session.flush()
    return job


def list_jobs(session: Session) -> list[JobListing]:
    return list(session.scalars(select(JobListing).order_by(JobListing.created_at.desc())))
