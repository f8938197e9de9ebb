"""``/``, ``POST /subscribe`` and ``/confirm/{token}``: signing up with double opt-in."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from pulse_core.errors import SendFailed
from subscribers.context import WEB_CONSENT_TEXT, SubscriberContext
from subscribers.emails import EmailRenderError
from subscribers.referrals import clean_referral_code
from subscribers.signup import (
    ConfirmOutcome,
    Consent,
    RecoverOutcome,
    confirm,
    drain_signup_mail,
    recover,
    recovery_reason,
    renew_confirmation,
)
from subscribers.tokens import ExpiredToken, InvalidToken
from subscribers.web.forms import (
    CSRF_FIELD,
    FormGuard,
    FormRejected,
    WebPolicy,
    client_ip,
    field,
    read_form,
    spend_form_token,
)
from subscribers.web.pages import Pages
from subscribers.web.screening import Limits, SignupFields, Verdict, screen_signup
from subscribers.web.zones import guess_timezone, profile_choices

log = logging.getLogger("subscribers.web")

MAX_TOKEN_LENGTH = 400
SIGNUP_SOURCE = "web:/ signup form"
RECOVER_SOURCE = "web:/recover confirmation"


def too_many(pages: Pages, retry_after: float) -> HTMLResponse:
    """The friendly 429 page."""
    minutes = max(1, round(retry_after / 60))
    return pages.message(
        "Too many tries",
        f"That was a lot of requests in a short time. Please wait about {minutes} minute(s) "
        "and try again.",
        429,
        headers={"Retry-After": str(int(retry_after))},
    )


def add_signup_routes(
    router: APIRouter,
    ctx: SubscriberContext,
    pages: Pages,
    policy: WebPolicy,
    limits: Limits,
) -> None:
    """Register the landing page, the signup form's POST and the confirmation pages."""
    guard = FormGuard(ctx.signer, policy)

    def form_page(
        request: Request,
        status_code: int = 200,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> Response:
        nonce, token = guard.issue(request)
        # A first visit (a referral link's code aside, nothing typed yet): the time zone
        # select starts from a guess (script may refine it).
        first_visit = not any(value for name, value in (values or {}).items() if name != "ref")
        accept_language = request.headers.get("accept-language")
        guess = guess_timezone(accept_language) if first_visit else None
        response = pages.render(
            "landing",
            status_code,
            form_token=token,
            errors=errors or {},
            values=values or {},
            notice=notice,
            profile=profile_choices(ctx.policy.default_timezone, guess),
        )
        guard.set_cookie(response, nonce)
        return response

    def check_inbox() -> Response:
        return pages.render("check_inbox")

    def send_queue_after_answer(response: Response) -> Response:
        # The queue is sent after the response has gone out, whoever signed up: a new and
        # a known address get the same answer in the same time.
        response.background = BackgroundTask(send_signup_queue, ctx)
        return response

    @router.get("/", include_in_schema=False)
    async def landing(request: Request, ref: str = "") -> Response:
        # A referral link (/?ref=CODE) prefills the hidden field; a malformed code is dropped.
        return form_page(request, values={"ref": clean_referral_code(ref[:100]) or ""})

    @router.post("/subscribe", include_in_schema=False)
    async def subscribe(request: Request) -> Response:
        form = await read_form(request)
        fields = SignupFields.of(form)
        try:
            check = guard.check(request, form)
            if not await run_in_threadpool(spend_form_token, ctx.sessions, field(form, CSRF_FIELD)):
                raise FormRejected("this form was already sent")
        except FormRejected:
            notice = "The form expired or your browser blocked its cookie. Please send it again."
            return form_page(request, 400, values=fields.values, notice=notice)
        screened = await screen_signup(
            request, ctx, policy, limits, fields, fill_seconds=check.fill_seconds,
            source=SIGNUP_SOURCE,
        )  # fmt: skip
        if screened.verdict is Verdict.TOO_QUICK:
            # Faster than people type: often the browser's autofill. Never claim an email
            # was sent when it was not; ask again, kindly, with the values kept.
            notice = "That was quick! Please check your details and press Subscribe again."
            return form_page(request, 400, values=fields.values, notice=notice)
        if screened.verdict is Verdict.TOO_MANY:
            return too_many(pages, screened.retry_after)
        if screened.verdict is Verdict.INVALID:
            return form_page(request, 400, errors=screened.errors, values=fields.values)
        if screened.verdict is Verdict.BOT:
            # A bot filled the hidden field: answer exactly as for a person, and do nothing.
            return check_inbox()
        return send_queue_after_answer(check_inbox())

    def invalid_link(expired: bool, token: str = "") -> Response:
        if expired:
            return pages.render("link_expired", 400, renew_action=f"/confirm/{token}/renew")
        return pages.message(
            "This link does not work",
            "The link is incomplete or was changed. Sign up again below and we will send "
            "you a fresh one.",
            400,
            actions=[("/", "Go to the signup form")],
        )

    @router.get("/confirm/{token}", include_in_schema=False)
    async def confirm_page(token: str) -> Response:
        # GET never confirms: link scanners prefetch links, people press the button.
        if len(token) > MAX_TOKEN_LENGTH:
            return invalid_link(False)
        try:
            ctx.signer.read_confirm(token, int(ctx.policy.confirm_lifetime.total_seconds()))
        except ExpiredToken:
            return invalid_link(True, token)
        except InvalidToken:
            return invalid_link(False)
        return pages.render("confirm", action=f"/confirm/{token}")

    @router.post("/confirm/{token}", include_in_schema=False)
    async def confirm_action(token: str) -> Response:
        # A confirmation may reach a referral milestone: its email goes out after the answer.
        return send_queue_after_answer(await confirmed_page(token))

    async def confirmed_page(token: str) -> Response:
        if len(token) > MAX_TOKEN_LENGTH:
            return invalid_link(False)
        try:
            outcome = await run_in_threadpool(confirm, ctx, token)
        except ExpiredToken:
            return invalid_link(True, token)
        except InvalidToken:
            return invalid_link(False)
        if outcome is ConfirmOutcome.NOT_PENDING:
            return pages.message(
                "This link is no longer valid",
                "This address left the list after the link was sent. To come back, sign up "
                "again and confirm the new link.",
                actions=[("/", "Sign up again")],
            )
        return pages.render("confirmed", already=outcome is ConfirmOutcome.ALREADY_ACTIVE)

    @router.post("/confirm/{token}/renew", include_in_schema=False)
    async def renew(request: Request, token: str) -> Response:
        if len(token) > MAX_TOKEN_LENGTH:
            return invalid_link(False)
        retry = limits.per_ip.hit(client_ip(request))
        if retry is not None:
            return too_many(pages, retry)
        try:
            await run_in_threadpool(renew_confirmation, ctx, token)
        except InvalidToken:
            return invalid_link(False)
        except (SendFailed, EmailRenderError):  # logged; the page stays the same
            log.exception("could not send a renewed confirmation email")
        return check_inbox()

    @router.get("/recover/{token}", include_in_schema=False)
    async def recover_page(token: str) -> Response:
        # GET never changes anything: it says what happened and shows the button.
        if len(token) > MAX_TOKEN_LENGTH:
            return invalid_link(False)
        try:
            reason = await run_in_threadpool(recovery_reason, ctx, token)
        except ExpiredToken:
            return recovery_expired()
        except InvalidToken:
            return invalid_link(False)
        if reason is None:
            return pages.message(
                "Nothing to do here",
                "This address is not blocked any more. Your preferences link in any of our "
                "emails shows where it stands.",
                actions=[("/", "Home")],
            )
        return pages.render("recover", action=f"/recover/{token}", reason=reason)

    @router.post("/recover/{token}", include_in_schema=False)
    async def recover_action(request: Request, token: str) -> Response:
        if len(token) > MAX_TOKEN_LENGTH:
            return invalid_link(False)
        consent = Consent(
            text=WEB_CONSENT_TEXT,
            source=RECOVER_SOURCE,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
        try:
            outcome = await run_in_threadpool(recover, ctx, token, consent)
        except ExpiredToken:
            return recovery_expired()
        except InvalidToken:
            return invalid_link(False)
        if outcome is RecoverOutcome.NOT_SUPPRESSED:
            return pages.message(
                "Nothing to do here",
                "This address is not blocked any more. To subscribe, use the form.",
                actions=[("/", "Go to the signup form")],
            )
        return pages.render("confirmed", already=outcome is RecoverOutcome.ALREADY_ACTIVE)

    def recovery_expired() -> Response:
        return pages.message(
            "This link has expired",
            "Sign up again with the form and we will send a fresh one (at most one a month).",
            400,
            actions=[("/", "Go to the signup form")],
        )


def send_signup_queue(ctx: SubscriberContext) -> None:
    """Send the signup mail queue; a failure is logged, never raised after the response."""
    try:
        drain_signup_mail(ctx)
    except Exception:  # the last resort: a background task after the response, nobody to tell
        log.exception("the signup mail queue could not be sent; the next drain retries")
