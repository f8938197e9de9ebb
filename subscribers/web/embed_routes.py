"""``/embed/…``: the signup form on other sites, as a plain HTML snippet or an iframe.

How it keeps bots out without a script on the other site. The copy-paste snippet posts
``email``, ``first_name`` and the honeypot to ``POST /embed/subscribe`` with no token
(another site's page cannot hold a cookie-bound form token). That first post is only
allowed from an origin in ``PULSE_EMBED_ORIGINS`` (``Origin``, else ``Referer``) and
queues nothing: it answers with a one-button step on this site carrying a signed,
single-use embed token (:meth:`~subscribers.tokens.TokenSigner.embed_token`) whose age is
the fill time. The iframe variant (``GET /embed/form``) carries that token from the start.
A token-bearing post must come from this site's own origin (the step and the iframe send
``Origin``: their referrer policy is ``same-origin``), then runs exactly the checks of the
main form (:func:`subscribers.web.screening.screen_signup`): honeypot, fill time, rate
limits, validation, and a queued signup that double opt-in confirms. Every embed page
may be framed only by the listed origins (CSP ``frame-ancestors``); the rest of the site
keeps ``frame-ancestors 'none'``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from subscribers.context import SubscriberContext
from subscribers.referrals import clean_referral_code
from subscribers.tokens import InvalidToken
from subscribers.web.embed_origins import (
    allowed,
    normalise_origin,
    request_origin,
    shown_origin,
)
from subscribers.web.forms import FORM_MAX_AGE_SECONDS, WebPolicy, field, read_form
from subscribers.web.forms import spend_form_token as spend_token
from subscribers.web.pages import Pages
from subscribers.web.screening import Limits, SignupFields, Verdict, screen_signup
from subscribers.web.signup_routes import send_signup_queue

EMBED_TOKEN_FIELD = "embed_token"  # noqa: S105 (a field name, not a secret)
# The iframe's token names no site: the browser enforced who may frame it.
FRAMED = "iframe"
EMBED_SOURCE = "embed:"


def embed_headers(origins: tuple[str, ...]) -> dict[str, str]:
    """Security headers of every embed page: framable by the listed sites only."""
    ancestors = " ".join(["'self'", *(shown_origin(origin) for origin in origins)])
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {ancestors}"
        ),
        # The step's post must show this site's Origin (no-referrer would send "null").
        "Referrer-Policy": "same-origin",
    }


def embed_snippet(base_url: str, list_name: str = "AISE Pulse Brief") -> str:
    """The copy-paste form for another site: plain HTML, no script, no token."""
    return (
        f'<form method="post" action="{base_url}/embed/subscribe" accept-charset="utf-8">\n'
        '  <label for="pulse-email">Email address</label>\n'
        '  <input type="email" id="pulse-email" name="email" required maxlength="320" '
        'autocomplete="email">\n'
        '  <label for="pulse-first-name">First name (optional)</label>\n'
        '  <input type="text" id="pulse-first-name" name="first_name" maxlength="100" '
        'autocomplete="given-name">\n'
        '  <div style="position:absolute;left:-10000px" aria-hidden="true">'
        '<label for="pulse-website">Leave this empty</label>'
        '<input type="text" id="pulse-website" name="website" tabindex="-1" autocomplete="off">'
        "</div>\n"
        f'  <button type="submit">Subscribe to {list_name}</button>\n'
        "  <p><small>One email a week. We send a confirmation first; unsubscribe with one "
        "click at any time.</small></p>\n"
        "</form>"
    )


def iframe_snippet(base_url: str, list_name: str = "AISE Pulse Brief") -> str:
    """The iframe variant: the form served from this site, framed by the other."""
    return (
        f'<iframe src="{base_url}/embed/form" title="Subscribe to {list_name}" '
        'width="100%" height="460" style="border:0;max-width:480px" loading="lazy"></iframe>'
    )


def add_embed_routes(
    router: APIRouter,
    ctx: SubscriberContext,
    pages: Pages,
    policy: WebPolicy,
    limits: Limits,
) -> None:
    """Register ``/embed/form`` and ``/embed/subscribe`` (only when origins are listed)."""
    if not policy.embed_origins:
        return
    headers = embed_headers(policy.embed_origins)
    own_origin = normalise_origin(ctx.base_url)

    def render(name: str, status_code: int = 200, **context: object) -> HTMLResponse:
        return pages.render(name, status_code, headers=dict(headers), **context)

    def form(
        origin: str,
        fields: SignupFields | None = None,
        *,
        status_code: int = 200,
        step: bool = True,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
    ) -> HTMLResponse:
        return render(
            "embed_form",
            status_code,
            embed_token=ctx.signer.embed_token(origin),
            values=fields.values if fields else {},
            errors=errors or {},
            notice=notice,
            step=step,
        )

    def refused() -> HTMLResponse:
        return pages.message(
            "This form cannot be used here",
            "The page this form was sent from is not one of ours. Sign up on our own site instead.",
            403,
            actions=[("/", "Go to the signup form")],
        )

    @router.get("/embed/form", include_in_schema=False)
    async def framed_form(request: Request, ref: str = "") -> Response:
        fields = SignupFields("", "", clean_referral_code(ref[:100]) or "", False)
        # The framing page's origin, when its Referer names a listed one, goes with the
        # consent record; the browser, not this, decides who may frame (frame-ancestors).
        framer = request_origin(None, request.headers.get("referer"))
        return form(
            framer if framer is not None and allowed(framer, policy.embed_origins) else FRAMED,
            fields,
            step=False,
        )

    @router.post("/embed/subscribe", include_in_schema=False)
    async def embed_subscribe(request: Request) -> Response:
        origin = request_origin(request.headers.get("origin"), request.headers.get("referer"))
        posted = await read_form(request)
        fields = SignupFields.of(posted)
        token = field(posted, EMBED_TOKEN_FIELD)
        if not token:
            # The snippet on a listed site: nothing is queued before the step on this site.
            if origin is None or not allowed(origin, policy.embed_origins):
                return refused()
            if fields.honeypot:
                return render("embed_done")
            return form(origin, fields)
        if origin is None or origin != own_origin:
            return refused()
        try:
            source, issued = ctx.signer.read_embed_token(token, FORM_MAX_AGE_SECONDS)
        except InvalidToken:
            notice = "The form expired. Please press Subscribe again."
            return form(FRAMED, fields, status_code=400, notice=notice)
        if not await run_in_threadpool(spend_token, ctx.sessions, token):
            return form(source, fields, status_code=400, notice="This form was already sent.")
        issued_at = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
        fill_seconds = (datetime.now(UTC) - issued_at).total_seconds()
        screened = await screen_signup(
            request, ctx, policy, limits, fields, fill_seconds=fill_seconds,
            source=f"{EMBED_SOURCE}{source}",
        )  # fmt: skip
        if screened.verdict is Verdict.TOO_QUICK:
            notice = "That was quick! Please check your details and press Subscribe again."
            return form(source, fields, status_code=400, notice=notice)
        if screened.verdict is Verdict.INVALID:
            return form(source, fields, status_code=400, errors=screened.errors)
        if screened.verdict is Verdict.TOO_MANY:
            minutes = max(1, round(screened.retry_after / 60))
            response = render("embed_done", 429, too_many=minutes)
            response.headers["Retry-After"] = str(int(screened.retry_after))
            return response
        response = render("embed_done")
        if screened.verdict is Verdict.QUEUED:
            response.background = BackgroundTask(send_signup_queue, ctx)
        return response
