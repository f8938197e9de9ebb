"""Preview, test send, and the approve / hold / send-now decisions (each confirmed first)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from pipeline.admin.preview import force_scheme, sample_parts, send_test, test_recipients
from pipeline.admin.routes_dashboard import chosen_week
from pipeline.admin.web import (
    DeskError,
    EditorActor,
    editor_form,
    page,
    pulse_of,
    redirect,
)
from pipeline.delivery.providers.base import SendResult
from pipeline.delivery.providers.errors import ProviderError
from pipeline.errors import PulseError, ValidationError
from pipeline.issues.build import find_issue
from pipeline.issues.lifecycle import allowed_actions
from pipeline.issues.models import Issue
from pipeline.issues.variant_store import VariantBody, variant_bodies
from pipeline.issues.variants import DEFAULT_KEY, VariantKey
from pipeline.wiring import Pulse
from pipeline.workflow import decisions
from pipeline.workflow.calendar import early_send_notice
from pipeline.workflow.variants import resolve_variant
from pipeline.workflow.weekly import build_with_headline, current_issue
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber, SubscriberStatus

ACTIONS = {
    "approve": "Approve this issue for its scheduled send",
    "hold": "Hold this issue: it will not be sent until approved again",
    "send": "Send this issue now to every active subscriber (the scheduler or a worker starts it)",
    "discard": "Discard this issue: it is never sent, and its content returns to the queue",
}
# The preview iframe shows our own rendered email: no scripts, no forms, nothing remote but images.
PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"


def _week(request: Request, value: str | None) -> str:
    return chosen_week(pulse_of(request), value, utcnow())


def _current(pulse: Pulse, session: Session, week: str) -> tuple[Issue, bool]:
    """The built issue or the draft; data that cannot make an issue is a page, not a 500."""
    try:
        return current_issue(pulse, session, week)
    except PulseError as err:
        raise DeskError(
            409, f"The issue for {week} cannot be assembled from the queue: {err}"
        ) from err


def _variant(
    session: Session, issue: Issue, built: bool, raw: str | None
) -> tuple[VariantKey, dict[str, VariantBody]]:
    """The variant a profile (``level=senior,region=US``) gets, and the built variants' bodies.

    A draft has no variants yet: it shows the default. A bad key is a 422 naming the field.
    """
    if not built:
        return DEFAULT_KEY, {}
    try:
        got = resolve_variant(session, issue, raw).got if raw else DEFAULT_KEY
    except ValidationError as err:
        raise DeskError(422, str(err)) from err
    return got, variant_bodies(session, issue.id)


def issue_router() -> APIRouter:
    router = APIRouter(prefix="/admin/issue", include_in_schema=False)

    @router.get("")
    def preview(
        request: Request,
        actor: EditorActor,
        week: str | None = None,
        scheme: str = "light",
        variant: str | None = None,
    ) -> Response:
        pulse = pulse_of(request)
        key = _week(request, week)
        with transaction(pulse.db.sessions) as session:
            issue, built = _current(pulse, session, key)
            shown, bodies = _variant(session, issue, built, variant)
            _html, text = sample_parts(pulse, issue, shown, bodies)
        return page(
            request,
            "admin/preview.html",
            actor,
            week=key,
            issue=issue,
            built=built,
            actions=allowed_actions(issue if built else None),
            text=text,
            scheme="dark" if scheme == "dark" else "light",
            recipients=test_recipients(pulse, actor.email),
            variant=shown.text,
            variants=[DEFAULT_KEY.text, *bodies],
        )

    @router.get("/render.html")
    def render(
        request: Request,
        actor: EditorActor,
        week: str | None = None,
        scheme: str = "light",
        variant: str | None = None,
    ) -> Response:
        pulse = pulse_of(request)
        key = _week(request, week)
        with transaction(pulse.db.sessions) as session:
            issue, built = _current(pulse, session, key)
            shown, bodies = _variant(session, issue, built, variant)
            html, _text = sample_parts(pulse, issue, shown, bodies)
        response = HTMLResponse(force_scheme(html, scheme))
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.post("/build")
    async def build(
        request: Request,
        week: str = Form(""),
        subject: str = Form(""),
        preheader: str = Form(""),
    ) -> Response:
        await editor_form(request)
        pulse = pulse_of(request)
        key = _week(request, week)

        def build_it() -> int:
            with transaction(pulse.db.sessions) as session:
                return build_with_headline(pulse, session, key, subject, preheader).number

        try:
            # Rendering and provider calls block: off the event loop, so other pages still load.
            number = await run_in_threadpool(build_it)
        except PulseError as err:
            raise DeskError(400, str(err)) from err
        return redirect(f"/admin/issue?week={key}", message=f"Issue #{number} built.")

    @router.post("/test-send")
    async def test_send(request: Request, week: str = Form("")) -> Response:
        actor = await editor_form(request)
        pulse = pulse_of(request)
        key = _week(request, week)
        addresses: list[str] = []

        def send_it() -> list[SendResult]:
            addresses.extend(test_recipients(pulse, actor.email))
            with transaction(pulse.db.sessions) as session:
                issue, _built = current_issue(pulse, session, key)
            return send_test(pulse, issue, addresses)

        try:
            results = await run_in_threadpool(send_it)
        except PulseError as err:
            raise DeskError(502 if isinstance(err, ProviderError) else 400, str(err)) from err
        accepted = sum(1 for result in results if result.status.accepted)
        message = f"Test sent to {accepted} of {len(results)}: {', '.join(addresses)}."
        return redirect(f"/admin/issue?week={key}", message=message)

    @router.get("/confirm/{action}")
    def confirm(
        request: Request, action: str, actor: EditorActor,
        week: str | None = None,
    ) -> Response:  # fmt: skip
        if action not in ACTIONS:
            raise DeskError(404, f"no such action {action!r}")
        pulse = pulse_of(request)
        key = _week(request, week)
        with transaction(pulse.db.sessions) as session:
            issue = find_issue(session, key)
            active = session.scalar(
                select(func.count())
                .select_from(Subscriber)
                .where(Subscriber.status == SubscriberStatus.ACTIVE)
            )
        return page(
            request, "admin/confirm.html", actor, action=action, description=ACTIONS[action],
            week=key, issue=issue, active=active or 0,
            early=early_send_notice(pulse.schedule, key, utcnow()) if action == "send" else None,
        )  # fmt: skip

    @router.post("/{action}")
    async def decide(
        request: Request,
        action: str,
        week: str = Form(""),
        confirm: str = Form(""),
        reason: str = Form(""),
    ) -> Response:
        actor = await editor_form(request)
        if action not in ACTIONS:
            raise DeskError(404, f"no such action {action!r}")
        pulse = pulse_of(request)
        key = _week(request, week)
        if confirm != "yes":
            return redirect(f"/admin/issue/confirm/{action}?week={key}")

        def decide_it() -> None:
            if action == "approve":
                decisions.approve(pulse, key, actor.email)
            elif action == "hold":
                decisions.hold(pulse, key, reason)
            elif action == "discard":
                decisions.discard(pulse, key, actor.email, reason)
            else:  # recorded; the scheduler or a worker starts the send
                decisions.request_send_now(pulse, key, actor.email)

        try:
            await run_in_threadpool(decide_it)
        except PulseError as err:
            raise DeskError(400, str(err)) from err
        done = {
            "approve": "approved",
            "hold": "held",
            "send": "queued to send now: the scheduler or a worker starts it within a minute",
            "discard": "discarded",
        }[action]
        return redirect(f"/admin/issue?week={key}", message=f"Issue {key} {done}.")

    return router
