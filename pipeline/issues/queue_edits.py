"""Changing and removing queued salary data points and job listings (CLI and desk).

Every change is validated as a whole before anything is written, with the same rules as
adding. Content that went out in an issue is part of the record: a job listing shown in a
sent issue cannot change; one in a built but unsent issue may, and the answer names the
issue to rebuild. That rule is why this lives with the issues and not in ``content``, which
knows nothing of issues.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.models import JobListing, SalaryPoint
from pipeline.content.queue import SalaryInput, salary_point
from pipeline.content.validate import (
    currency_code,
    iso_date,
    positive_int,
    range_pair,
    required_text,
    web_url,
)
from pipeline.errors import AlreadyExists, NotFoundError, ValidationError
from pipeline.issues.models import Issue
from pipeline.issues.states import UNSENT

SALARY_FIELDS = tuple(SalaryInput.__dataclass_fields__)


def get_salary_point(session: Session, point_id: int) -> SalaryPoint:
    point = session.get(SalaryPoint, point_id)
    if point is None:
        raise NotFoundError(f"no salary point {point_id} (see `pulse salary list`)")
    return point


def salary_input_of(point: SalaryPoint) -> SalaryInput:
    """The point's current values, as an editor would type them."""
    return SalaryInput(
        point.role, point.level, point.currency, point.low, point.high,
        point.region, point.source, point.sample_size, point.as_of,
    )  # fmt: skip


def update_salary_point(
    session: Session, point_id: int, changes: dict[str, str | int | date]
) -> SalaryPoint:
    """Change the named fields of a data point; the whole point is validated again."""
    unknown = sorted(set(changes) - set(SALARY_FIELDS))
    if unknown:
        raise ValidationError(
            unknown[0], f"not a salary point field; use {', '.join(SALARY_FIELDS)}"
        )
    point = get_salary_point(session, point_id)
    checked = salary_point(replace(salary_input_of(point), **changes))  # type: ignore[arg-type]
    for name in SALARY_FIELDS:
        setattr(point, name, getattr(checked, name))
    session.flush()
    return point


def remove_salary_points(session: Session, point_ids: list[int]) -> int:
    """Delete data points (sent issues keep the tables they showed); all must exist."""
    points = [get_salary_point(session, point_id) for point_id in point_ids]
    for point in points:
        session.delete(point)
    session.flush()
    return len(points)


@dataclass(frozen=True)
class JobChange:
    """A job listing's fields; None leaves a field as it is."""

    company: str | None = None
    title: str | None = None
    location: str | None = None
    url: str | None = None
    remote: bool | None = None
    comp_low: int | None = None
    comp_high: int | None = None
    currency: str | None = None
    expires_on: str | date | None = None
    clear_comp: bool = False  # remove the pay range
    clear_expiry: bool = False  # the listing no longer expires


def get_job(session: Session, job_id: int) -> JobListing:
    job = session.get(JobListing, job_id)
    if job is None:
        raise NotFoundError(f"no job listing {job_id} (see `pulse jobs list`)")
    return job


def _unsent_issue_of(session: Session, job: JobListing) -> str | None:
    """The week of the unsent issue showing ``job``; refuses a listing already mailed."""
    if job.issue_id is None:
        return None
    issue = session.get(Issue, job.issue_id)
    if issue is None:
        return None
    if issue.status not in UNSENT:
        raise ValidationError(
            "job",
            f"job {job.id} went out in issue {issue.week_key} ({issue.status.value}) "
            "and can no longer change",
        )
    return issue.week_key


def update_job(session: Session, job_id: int, change: JobChange) -> tuple[JobListing, str | None]:
    """Change a listing; returns it and the week of an unsent issue to rebuild, if any."""
    job = get_job(session, job_id)
    week = _unsent_issue_of(session, job)
    url = web_url(change.url, "url") if change.url is not None else job.url
    if url != job.url:
        clash = session.scalar(select(JobListing.id).where(JobListing.url == url))
        if clash is not None:
            raise AlreadyExists("url", f"{url} is already listed (job {clash})")
    low, high = (None, None) if change.clear_comp else (job.comp_low, job.comp_high)
    if change.comp_low is not None:
        low = positive_int(change.comp_low, "comp_low")
    if change.comp_high is not None:
        high = positive_int(change.comp_high, "comp_high")
    if (low is None) != (high is None):
        raise ValidationError("comp", "give both --comp-low and --comp-high, or neither")
    if low is not None and high is not None:
        range_pair(low, high, "comp_high")
    expires = None if change.clear_expiry else job.expires_on
    if change.expires_on is not None:
        expires = iso_date(change.expires_on, "expires_on")
    values = {
        "company": required_text(change.company or job.company, "company", max_length=200),
        "title": required_text(change.title or job.title, "title", max_length=200),
        "location": required_text(change.location or job.location, "location", max_length=200),
        "remote": job.remote if change.remote is None else change.remote,
        "currency": currency_code(change.currency or job.currency),
        "url": url,
        "comp_low": low,
        "comp_high": high,
        "expires_on": expires,
    }
    for name, value in values.items():
        setattr(job, name, value)
    session.flush()
    return job, week


def remove_job(session: Session, job_id: int) -> str | None:
    """Delete a listing; returns the week of an unsent issue to rebuild, if it showed it."""
    job = get_job(session, job_id)
    week = _unsent_issue_of(session, job)
    session.delete(job)
    session.flush()
    return week


def job_fields(job: JobListing) -> dict[str, str]:
    """A listing's values as form text."""
    return {
        "company": job.company,
        "title": job.title,
        "location": job.location,
        "url": job.url,
        "comp_low": "" if job.comp_low is None else str(job.comp_low),
        "comp_high": "" if job.comp_high is None else str(job.comp_high),
        "currency": job.currency,
        "expires_on": job.expires_on.isoformat() if job.expires_on else "",
    }


def salary_fields(point: SalaryPoint) -> dict[str, str]:
    """A data point's values as form text."""
    return {name: str(value) for name, value in asdict(salary_input_of(point)).items()}
