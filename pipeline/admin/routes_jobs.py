"""The desk's intake pages: the review queue (jobs and Quick Links) and the boards and feeds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pipeline.admin.sessions import Actor
from pipeline.admin.web import EditorActor, editor_form, page, pulse_of, redirect
from pipeline.errors import NotFoundError, ValidationError
from pipeline.intake import records, review, sources
from pipeline.workflow.intake import run_intake
from pulse_core.database import transaction, utcnow

REVIEW = "/admin/jobs/review"


def review_page(request: Request, actor: Actor, status: int = 200, **context: Any) -> Response:
    with transaction(pulse_of(request).db.sessions) as session:
        queue = records.review_records(session, utcnow().date())
        known = sources.list_sources(session)
    context.setdefault("error", None)
    return page(
        request,
        "admin/jobs_review.html",
        actor,
        status,
        queue=queue,
        sources=known,
        **context,
    )


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def decide(request: Request) -> Response:
    """Accept or reject the ticked proposals (all or nothing)."""
    actor = await editor_form(request)
    form = await request.form()
    ids = [value for value in form.getlist("id") if isinstance(value, str)]
    action = _field(form, "action")
    pulse = pulse_of(request)
    try:
        if action not in ("accept", "reject"):
            raise ValidationError("action", "must be accept or reject")
        if not ids:
            raise ValidationError("id", "tick at least one proposal")
        with transaction(pulse.db.sessions) as session:
            if action == "accept":
                done = review.accept(
                    session, ids, role=pulse.settings.jobs_salary_role, today=utcnow().date()
                )
            else:
                done = review.reject(session, ids)
    except (ValidationError, NotFoundError) as err:
        return review_page(request, actor, 400, error=err)
    return redirect(REVIEW, message=f"{action.capitalize()}ed {len(done)}.")


async def add_source(request: Request) -> Response:
    actor = await editor_form(request)
    form = await request.form()
    kind = _field(form, "kind")
    try:
        with transaction(pulse_of(request).db.sessions) as session:
            if kind == "feed":
                source = sources.add_feed(
                    session, url=_field(form, "board"), auto_accept=form.get("auto_accept") == "on"
                )
            else:
                source = sources.add_board(
                    session,
                    kind=kind,
                    board=_field(form, "board"),
                    company=_field(form, "company"),
                    auto_accept=form.get("auto_accept") == "on",
                )
            label = sources.source_label(source)
    except ValidationError as err:
        return review_page(request, actor, 400, error=err)
    return redirect(REVIEW, message=f"Added {label}.")


async def remove_source(request: Request) -> Response:
    actor = await editor_form(request)
    form = await request.form()
    try:
        with transaction(pulse_of(request).db.sessions) as session:
            sources.remove_source(session, kind=_field(form, "kind"), board=_field(form, "board"))
    except (ValidationError, NotFoundError) as err:
        return review_page(request, actor, 400, error=err)
    return redirect(REVIEW, message="Source removed.")


async def fetch_now(request: Request) -> Response:
    await editor_form(request)
    outcome = await run_in_threadpool(run_intake, pulse_of(request))
    new = sum(r.new for r in outcome.reports)
    failed = sum(1 for r in outcome.reports if r.failed)
    message = f"Fetched {len(outcome.reports)} sources: {new} new, {failed} failed."
    return redirect(REVIEW, message=message)


def jobs_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/jobs/review")
    def queue(request: Request, actor: EditorActor) -> Response:
        return review_page(request, actor)

    router.add_api_route("/jobs/review", decide, methods=["POST"])
    router.add_api_route("/jobs/sources", add_source, methods=["POST"])
    router.add_api_route("/jobs/sources/remove", remove_source, methods=["POST"])
    router.add_api_route("/jobs/fetch", fetch_now, methods=["POST"])
    return router
