"""The JSON API for automation, under ``/api/v1/``, authenticated by per-editor bearer tokens.

Tokens are created on the desk (``/admin/tokens``) and stored hashed. FastAPI documents
every operation in the app's OpenAPI schema (``/openapi.json``), and the schema is the
contract: every constraint the API checks field by field is declared on the request models
(a client generated from the schema sends nothing the API refuses for its shape), and every
answer an operation can give is declared with the body it really has
(:mod:`pipeline.admin.api_errors`). What no schema can say (low above high,
a URL already listed, a week a year does not have) is checked by the content queue and
answered as a 422 naming the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
)

from pipeline.admin.api_errors import (
    ALREADY_LISTED,
    BODY_ERRORS,
    PATH_ERRORS,
    UNAUTHORIZED,
    UNAUTHORIZED_MESSAGE,
)
from pipeline.admin.content import issue_weeks
from pipeline.admin.sessions import Actor
from pipeline.admin.stats import issue_counts
from pipeline.admin.web import api_actor, pulse_of
from pipeline.content.models import JobListing, Section, Snippet
from pipeline.content.queue import (
    SalaryInput,
    add_job,
    add_snippet,
    list_jobs,
    list_salary_points,
    list_snippets,
    salary_point,
)
from pipeline.errors import AlreadyExists, ValidationError
from pipeline.issues.build import find_issue
from pipeline.weeks import parse_week
from pipeline.workflow.calendar import upcoming_week
from pipeline.workflow.check import check_week
from pulse_core.database import transaction, utcnow


def _clean(value: str) -> str:
    # Lone surrogates and NUL cannot be stored (PostgreSQL refuses them): a 422, not a 500.
    if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("contains characters that cannot be stored")
    return value


Text = Annotated[str, AfterValidator(_clean)]
# The queue strips text (Python's strip: Unicode spaces and U+001C-U+001F), then refuses it
# when empty or when it holds a control character other than tab and newline. One pattern
# says the same: optional edges of what strip removes, at least one visible character, and
# no other control character in between.
_EDGE = r"[\s\x1c-\x1f]*"
_TEXT_CHAR = r"[^\x00-\x08\x0b-\x1f]"
NON_BLANK = rf"^{_EDGE}{_TEXT_CHAR}*[^\s\x00-\x1f]{_TEXT_CHAR}*{_EDGE}$"
# Snippet Markdown: tab, newline and carriage return allowed, no other control character.
MARKDOWN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
# What the queue's web_url accepts: http or https and a host (urlsplit judges the rest),
# no control character (before the edges strip removes), no bracket in the host (an
# unbalanced one is not a URL; IPv6 literals are not job or snippet links).
WEB_URL = (
    rf"^{_EDGE}[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s\x00-\x1f\x7f\[\]]+[^\x00-\x1f\x7f]*{_EDGE}$"
)
# An ISO week in the years a newsletter can have (pipeline.weeks: 2000-2999, W01-W53;
# a W53 the year does not have is the queue's 422). [0-9], not \d: JSON Schema's \d is ASCII,
# Python's is not.
ISO_WEEK = r"2[0-9]{3}-W(0[1-9]|[1-4][0-9]|5[0-3])"
CURRENCY = r"^[A-Za-z]{3}$"
def _whole_number(value: object) -> object:
    # JSON Schema's integer includes 5.0 (a number whose fraction is zero); strict pydantic
    # would refuse it. Strings and booleans still go on to be refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# positive_int's bounds: greater than zero, at most a billion. Strict: the schema says
# integer, so "5" and true are refused (lax pydantic would take them).
# (The Field before the validator: after it, pydantic leaves gt/le untranslated in the schema.)
Amount = Annotated[
    int, Field(gt=0, le=1_000_000_000, strict=True), BeforeValidator(_whole_number)
]
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: object) -> object:
    # The schema says a string in date format; lax pydantic would also take 0 (1970-01-01).
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date such as 2026-11-24")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
# Constraints inside the type, so that they hold (and are declared) when the field is optional.
# (StringConstraints before the validator: pydantic leaves a pattern after it out of the schema.)
WebUrl = Annotated[str, StringConstraints(max_length=2000, pattern=WEB_URL), AfterValidator(_clean)]
Week = Annotated[str, StringConstraints(pattern=f"^{ISO_WEEK}$"), AfterValidator(_clean)]

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
        raise HTTPException(401, UNAUTHORIZED_MESSAGE, headers={"WWW-Authenticate": "Bearer"})
    return actor


ApiEditor = Annotated[Actor, Depends(api_editor)]


def _invalid(err: ValidationError, prefix: str = "") -> HTTPException:
    """422 for a wrong field; 409 for a record that is already there (the same job URL)."""
    status = 409 if isinstance(err, AlreadyExists) else 422
    return HTTPException(status, {"field": prefix + err.field, "message": err.message})


class SnippetIn(BaseModel):
    section: Section = Field(description="the issue section the snippet goes in")
    title: Text = Field(min_length=1, max_length=200, pattern=NON_BLANK)
    body: Text = Field(default="", max_length=20_000, pattern=MARKDOWN, description="Markdown")
    link: WebUrl | None = Field(default=None, description="an http(s) URL")
    status: Literal["ready", "draft"] = "ready"
    target_week: Week | None = Field(default=None, description="e.g. 2026-W48; none = any week")
    target_roles: list[Annotated[str, StringConstraints(max_length=30)]] = Field(
        default_factory=list,
        max_length=4,
        description="readers' roles it is for (ai-se, se-manager, mle-considering-se, other); "
        "empty = everyone",
    )


class SnippetOut(BaseModel):
    id: int
    section: str
    title: str
    body: str
    link: str | None
    status: str
    target_week: str | None
    target_roles: list[str]
    position: int
    retired: bool
    used_in: str | None = Field(description="week of the issue that used it")


class SalaryPointIn(BaseModel):
    role: Text = Field(min_length=1, max_length=100, pattern=NON_BLANK)
    level: Text = Field(min_length=1, max_length=50, pattern=NON_BLANK)
    currency: Text = Field(pattern=CURRENCY, description="e.g. USD")
    low: Amount
    high: Amount = Field(description="at least low")
    region: Text = Field(min_length=1, max_length=100, pattern=NON_BLANK)
    source: Text = Field(min_length=1, max_length=200, pattern=NON_BLANK)
    sample_size: Amount
    as_of: IsoDate


class SalaryPointOut(BaseModel):
    # Not the input model: rows are described as stored, without the input's constraints.
    id: int
    role: str
    level: str
    currency: str
    low: int
    high: int
    region: str
    source: str
    sample_size: int
    as_of: date


class ImportResult(BaseModel):
    imported: int


class JobIn(BaseModel):
    company: Text = Field(min_length=1, max_length=200, pattern=NON_BLANK)
    title: Text = Field(min_length=1, max_length=200, pattern=NON_BLANK)
    location: Text = Field(min_length=1, max_length=200, pattern=NON_BLANK)
    url: WebUrl = Field(description="an http(s) URL, listed once")
    remote: StrictBool = False
    comp_low: Amount | None = Field(default=None, description="with comp_high, or neither")
    comp_high: Amount | None = Field(default=None, description="at least comp_low")
    currency: Text = Field(default="USD", pattern=CURRENCY)
    expires_on: IsoDate | None = None


class JobOut(BaseModel):
    # Not the input model: listings also arrive from the job boards, described as stored.
    id: int
    company: str
    title: str
    location: str
    url: str
    remote: bool
    comp_low: int | None
    comp_high: int | None
    currency: str
    expires_on: date | None
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
        target_roles=snippet.target_roles.split(",") if snippet.target_roles else [],
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
    router = APIRouter(prefix="/api/v1", tags=["editors' API"], responses=UNAUTHORIZED)

    @router.get("/snippets", response_model=list[SnippetOut], summary="List queued snippets")
    def get_snippets(request: Request, _actor: ApiEditor) -> list[SnippetOut]:
        with transaction(pulse_of(request).db.sessions) as session:
            weeks = issue_weeks(session)
            return [_snippet_out(s, weeks) for s in list_snippets(session)]

    @router.post(
        "/snippets",
        response_model=SnippetOut,
        status_code=201,
        summary="Queue a snippet",
        responses=BODY_ERRORS,
    )
    def post_snippet(request: Request, body: SnippetIn, _actor: ApiEditor) -> SnippetOut:
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                snippet = add_snippet(
                    session,
                    section=body.section.value,
                    title=body.title,
                    body=body.body,
                    link=body.link,
                    status=body.status,
                    target_week=body.target_week,
                    target_roles=",".join(body.target_roles),
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
        responses=BODY_ERRORS,
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

    @router.post(
        "/jobs",
        response_model=JobOut,
        status_code=201,
        summary="Add a job listing",
        responses={**BODY_ERRORS, **ALREADY_LISTED},
    )
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
        responses=PATH_ERRORS,
    )
    def get_issue_status(
        request: Request,
        week: Annotated[str, Path(pattern=f"^(next|{ISO_WEEK})$", description="e.g. 2026-W48")],
        _actor: ApiEditor,
    ) -> IssueStatusOut:
        pulse = pulse_of(request)
        now = utcnow()
        try:
            key = upcoming_week(pulse, now) if week == "next" else parse_week(week)
        except ValidationError as err:
            # The path has the declared shape but names no week (2026-W53: 2026 has 52):
            # like any path naming nothing, it is not found.
            raise HTTPException(404, err.message) from err
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
