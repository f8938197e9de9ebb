"""The JSON API for automation, under ``/api/v1/``, authenticated by per-editor bearer tokens.

Tokens are created on the desk (``/admin/tokens``) and stored hashed. FastAPI documents
every operation in the app's OpenAPI schema (``/openapi.json``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, Field

from pipeline.admin.content import issue_weeks
from pipeline.admin.sessions import Actor
from pipeline.admin.stats import issue_counts
from pipeline.admin.web import api_actor, pulse_of
from pipeline.content.models import JobListing, Snippet
from pipeline.content.queue import (
    SalaryInput,
    add_job,
    add_snippet,
    list_jobs,
    list_salary_points,
    list_snippets,
    salary_point,
)
from pipeline.errors import ValidationError
from pipeline.issues.build import find_issue
from pipeline.issues.weeks import parse_week
from pipeline.workflow.calendar import upcoming_week
from pipeline.workflow.check import check_week
from pulse_core.database import transaction, utcnow


def _clean(value: str) -> str:
    # Lone surrogates and NUL cannot be stored (PostgreSQL refuses them): a 422, not a 500.
    if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("contains characters that cannot be stored")
    return value


Text = Annotated[str, AfterValidator(_clean)]

bearer = HTTPBearer(
    auto_error=False, description="A per-editor API token, created at /admin/tokens"
)


def api_editor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    """The editor whose live token the request carries; 401 otherwise."""
    actor = api_actor(request) if credentials is not None else None
    if actor is None:
        raise HTTPException(
            401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return actor


ApiEditor = Annotated[Actor, Depends(api_editor)]


def _invalid(err: ValidationError, prefix: str = "") -> HTTPException:
    return HTTPException(422, {"field": prefix + err.field, "message": err.message})


class SnippetIn(BaseModel):
    section: Text = Field(description="editors-note, salary-pulse, whos-hiring, ...")
    title: Text = Field(max_length=200)
    body: Text = Field(default="", max_length=20_000, description="Markdown")
    link: Text | None = Field(default=None, max_length=2000)
    status: Text = Field(default="ready", description="ready or draft")
    target_week: Text | None = Field(default=None, description="e.g. 2026-W48; none = any week")


class SnippetOut(BaseModel):
    id: int
    section: str
    title: str
    body: str
    link: str | None
    status: str
    target_week: str | None
    position: int
    retired: bool
    used_in: str | None = Field(description="week of the issue that used it")


class SalaryPointIn(BaseModel):
    role: Text = Field(max_length=100)
    level: Text = Field(max_length=50)
    currency: Text = Field(max_length=3)
    low: int
    high: int
    region: Text = Field(max_length=100)
    source: Text = Field(max_length=200)
    sample_size: int
    as_of: date


class SalaryPointOut(SalaryPointIn):
    id: int


class ImportResult(BaseModel):
    imported: int


class JobIn(BaseModel):
    company: Text = Field(max_length=200)
    title: Text = Field(max_length=200)
    location: Text = Field(max_length=200)
    url: Text = Field(max_length=2000)
    remote: bool = False
    comp_low: int | None = None
    comp_high: int | None = None
    currency: Text = Field(default="USD", max_length=3)
    expires_on: date | None = None


class JobOut(JobIn):
    id: int
    used_in: str | None


class SectionStatus(BaseModel):
    section: str
    have: int
    minimum: int
    maximum: int
    missing: int


class IssueStatusOut(BaseModel):
    week: str
    built: bool
    status: str | None
    number: int | None
    subject: str | None
    approved_at: datetime | None
    approved_by: str | None
    ready: bool
    sections: list[SectionStatus]
    problems: list[str]
    deliveries: dict[str, int]


def _snippet_out(snippet: Snippet, weeks: dict[int, str]) -> SnippetOut:
    return SnippetOut(
        id=snippet.id,
        section=snippet.section.value,
        title=snippet.title,
        body=snippet.body_md,
        link=snippet.link,
        status=snippet.status.value,
        target_week=snippet.target_week,
        position=snippet.position,
        retired=snippet.retired_at is not None,
        used_in=weeks.get(snippet.issue_id) if snippet.issue_id else None,
    )


def _job_out(job: JobListing, weeks: dict[int, str]) -> JobOut:
    return JobOut(
        id=job.id,
        company=job.company,
        title=job.title,
        location=job.location,
        url=job.url,
        remote=job.remote,
        comp_low=job.comp_low,
        comp_high=job.comp_high,
        currency=job.currency,
        expires_on=job.expires_on,
        used_in=weeks.get(job.issue_id) if job.issue_id else None,
    )


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["editors' API"])

    @router.get("/snippets", response_model=list[SnippetOut], summary="List queued snippets")
    def get_snippets(request: Request, _actor: ApiEditor) -> list[SnippetOut]:
        with transaction(pulse_of(request).db.sessions) as session:
            weeks = issue_weeks(session)
            return [_snippet_out(s, weeks) for s in list_snippets(session)]

    @router.post("/snippets", response_model=SnippetOut, status_code=201, summary="Queue a snippet")
    def post_snippet(request: Request, body: SnippetIn, _actor: ApiEditor) -> SnippetOut:
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                snippet = add_snippet(
                    session,
                    section=body.section,
                    title=body.title,
                    body=body.body,
                    link=body.link,
                    status=body.status,
                    target_week=body.target_week,
                )
                return _snippet_out(snippet, {})
        except ValidationError as err:
            raise _invalid(err) from err

    @router.get("/salary-points", response_model=list[SalaryPointOut], summary="Recent points")
    def get_salary(request: Request, _actor: ApiEditor) -> list[SalaryPointOut]:
        with transaction(pulse_of(request).db.sessions) as session:
            return [
                SalaryPointOut.model_validate(p, from_attributes=True)
                for p in list_salary_points(session, limit=500)
            ]

    @router.post(
        "/salary-points",
        response_model=ImportResult,
        status_code=201,
        summary="Add salary data points: all of them, or none if one is invalid",
    )
    def post_salary(
        request: Request,
        body: Annotated[list[SalaryPointIn], Field(min_length=1, max_length=5000)],
        _actor: ApiEditor,
    ) -> ImportResult:
        rows = []
        for index, item in enumerate(body):
            try:
                rows.append(salary_point(SalaryInput(**item.model_dump())))
            except ValidationError as err:
                raise _invalid(err, prefix=f"[{index}].") from err
        with transaction(pulse_of(request).db.sessions) as session:
            session.add_all(rows)
        return ImportResult(imported=len(rows))

    @router.get("/jobs", response_model=list[JobOut], summary="List job listings")
    def get_jobs(request: Request, _actor: ApiEditor) -> list[JobOut]:
        with transaction(pulse_of(request).db.sessions) as session:
            weeks = issue_weeks(session)
            return [_job_out(job, weeks) for job in list_jobs(session)]

    @router.post("/jobs", response_model=JobOut, status_code=201, summary="Add a job listing")
    def post_job(request: Request, body: JobIn, _actor: ApiEditor) -> JobOut:
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                job = add_job(session, **body.model_dump())
                return _job_out(job, {})
        except ValidationError as err:
            raise _invalid(err) from err

    @router.get(
        "/issues/{week}",
        response_model=IssueStatusOut,
        summary="An issue's status and readiness ('next' for the next scheduled one)",
    )
    def get_issue_status(request: Request, week: str, _actor: ApiEditor) -> IssueStatusOut:
        pulse = pulse_of(request)
        now = utcnow()
        try:
            key = upcoming_week(pulse, now) if week == "next" else parse_week(week)
        except ValidationError as err:
            raise _invalid(err) from err
        readiness = check_week(pulse, key, now)
        with transaction(pulse.db.sessions) as session:
            issue = find_issue(session, key)
            counts = issue_counts(session, issue.id) if issue else {}
        return IssueStatusOut(
            week=key,
            built=issue is not None,
            status=issue.status.value if issue else None,
            number=issue.number if issue else None,
            subject=issue.subject if issue else None,
            approved_at=issue.approved_at if issue else None,
            approved_by=issue.approved_by if issue else None,
            ready=readiness.ready,
            sections=[SectionStatus(**vars(s)) for s in readiness.sections],
            problems=list(readiness.problems),
            deliveries=dict(counts),
        )

    return router
