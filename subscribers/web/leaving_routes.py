"""``/u/{token}`` (RFC 8058 one-click unsubscribe) and ``/preferences/{token}``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from pulse_core.database import transaction
from pulse_core.errors import SendFailed, ValidationError
from subscribers import preferences as prefs
from subscribers.context import SubscriberContext
from subscribers.emails import EmailRenderError
from subscribers.models import Subscriber
from subscribers.privacy import erase, subscriber_record
from subscribers.profile import PROFILE_FIELDS, clean_profile
from subscribers.ratelimit import SlidingWindowLimiter
from subscribers.tokens import ExpiredToken, InvalidToken
from subscribers.web.forms import field, read_form
from subscribers.web.pages import Pages
from subscribers.web.signup_routes import MAX_TOKEN_LENGTH
from subscribers.web.zones import profile_choices

log = logging.getLogger("subscribers.web")


def masked(email: str) -> str:
    """``a••••@example.com``: enough for the owner to recognise, little for anyone else."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}{'•' * min(max(len(local) - 1, 3), 8)}@{domain}"


def add_leaving_routes(router: APIRouter, ctx: SubscriberContext, pages: Pages) -> None:
    """Register the unsubscribe and preferences pages."""
    # A few mailed manage links per subscriber per hour: the long-lived link cannot flood.
    manage_links = SlidingWindowLimiter(3, 3600.0)

    def bad_link() -> Response:
        return pages.message(
            "This link does not work",
            "The link is incomplete or was changed. Use the link in your latest email, or "
            "write to us and we will take care of it.",
            400,
            actions=[("/", "Home")],
        )

    @router.get("/u/{token}", include_in_schema=False)
    async def unsubscribe_page(token: str) -> Response:
        # GET only shows the button: prefetching scanners must not unsubscribe anyone.
        if len(token) > MAX_TOKEN_LENGTH:
            return bad_link()
        try:
            view = await run_in_threadpool(prefs.subscriber_for_unsubscribe, ctx, token)
        except InvalidToken:
            return bad_link()
        return pages.render(
            "unsubscribe",
            action=f"/u/{token}",
            email=masked(view.email),
            preferences_url=f"/preferences/{ctx.signer.preferences_token(view.id)}",
        )

    @router.post("/u/{token}", include_in_schema=False)
    async def unsubscribe(request: Request, token: str) -> Response:
        # RFC 8058: a POST with List-Unsubscribe=One-Click, no cookies, no auth; the signed
        # token is the authority. Answer 200 whenever the link is genuine.
        if len(token) > MAX_TOKEN_LENGTH:
            return bad_link()
        form = await read_form(request)
        one_click = field(form, "List-Unsubscribe") == "One-Click"
        from_page = field(form, "source") == "page"
        cause = "unsubscribe:page" if from_page or not one_click else "unsubscribe:one-click"
        try:
            view = await run_in_threadpool(prefs.unsubscribe_by_token, ctx, token, cause=cause)
        except InvalidToken:
            return bad_link()
        return pages.render(
            "unsubscribed",
            email=masked(view.email),
            preferences_url=f"/preferences/{ctx.signer.preferences_token(view.id)}",
        )

    def expired_manage_link() -> Response:
        minutes = int(ctx.policy.manage_link_lifetime.total_seconds() // 60)
        return pages.message(
            "This link has expired",
            f"Links to change, download or delete your data work for {minutes} minutes. Open "
            "your preferences from any of our emails and ask for a new one.",
            400,
            actions=[("/", "Home")],
        )

    def preferences_page(
        token: str,
        access: prefs.PreferencesAccess,
        status_code: int = 200,
        *,
        notice: str | None = None,
        errors: dict[str, str] | None = None,
    ) -> Response:
        minutes = int(ctx.policy.manage_link_lifetime.total_seconds() // 60)
        return pages.render(
            "preferences",
            status_code,
            action=f"/preferences/{token}",
            data_url=f"/preferences/{token}/data.json",
            view=access.view,
            full=access.full,
            link_minutes=minutes,
            email=masked(access.view.email),
            notice=notice,
            errors=errors or {},
            max_weeks=prefs.MAX_PAUSE_WEEKS,
            values={k: v for k, v in access.view.profile.as_dict().items() if v},
            profile=profile_choices(ctx.policy.default_timezone),
            referral_url=ctx.referral_url(access.view.referral_code),
        )

    @router.get("/preferences/{token}", include_in_schema=False)
    async def preferences(token: str) -> Response:
        if len(token) > MAX_TOKEN_LENGTH:
            return bad_link()
        try:
            access = await run_in_threadpool(prefs.subscriber_for_preferences, ctx, token)
        except ExpiredToken:
            return expired_manage_link()
        except InvalidToken:
            return bad_link()
        return preferences_page(token, access)

    @router.get("/preferences/{token}/data.json", include_in_schema=False)
    async def download(token: str) -> Response:
        if len(token) > MAX_TOKEN_LENGTH:
            return bad_link()
        try:
            access = await run_in_threadpool(prefs.subscriber_for_preferences, ctx, token)
            if not access.full:
                return needs_fresh_link()
            record = await run_in_threadpool(_export, ctx, access.view.id)
        except ExpiredToken:
            return expired_manage_link()
        except InvalidToken:
            return bad_link()
        return Response(
            json.dumps(record, indent=2, ensure_ascii=False),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="my-pulse-data.json"'},
        )

    def needs_fresh_link() -> Response:
        return pages.message(
            "This needs a fresh link",
            "To change your name, download or delete your data, ask for a link on your "
            "preferences page: we email it to your address and it works for a short while.",
            403,
            actions=[("/", "Home")],
        )

    @router.post("/preferences/{token}", include_in_schema=False)
    async def change(request: Request, token: str) -> Response:
        if len(token) > MAX_TOKEN_LENGTH:
            return bad_link()
        form = await read_form(request)
        action = field(form, "action")
        try:
            access = await run_in_threadpool(prefs.subscriber_for_preferences, ctx, token)
            view = access.view
            if action in _NEEDS_MANAGE_LINK and not access.full:
                return needs_fresh_link()
            if action == "send_link":
                if manage_links.hit(str(view.id)) is None:
                    try:
                        await run_in_threadpool(prefs.send_manage_link, ctx, view.id)
                    except (SendFailed, EmailRenderError):  # say so, never a traceback
                        log.exception("could not send a manage link")
                        notice = "We could not send the email just now. Please try again soon."
                        return preferences_page(token, access, 503, notice=notice)
                notice = (
                    f"We emailed a link to {masked(view.email)}. It works for "
                    f"{int(ctx.policy.manage_link_lifetime.total_seconds() // 60)} minutes."
                )
                return preferences_page(token, access, notice=notice)
            if action == "delete":
                if field(form, "confirm") != "yes":
                    raise ValidationError("confirm", "tick the box to confirm the deletion")
                await run_in_threadpool(_erase, ctx, view.id)
                return pages.message(
                    "Your data is deleted",
                    "We removed your address, name and history. We keep only a one-way "
                    "fingerprint of the address so it is never mailed again by mistake.",
                )
            step, notice = _ACTIONS.get(action, (None, ""))
            if step is None:
                raise ValidationError("action", "choose one of the buttons on the page")
            updated = await run_in_threadpool(step, ctx, view.id, form)
        except ExpiredToken:
            return expired_manage_link()
        except InvalidToken:
            return bad_link()
        except ValidationError as err:
            return preferences_page(token, access, 400, errors={err.field: err.message})
        return preferences_page(token, prefs.PreferencesAccess(updated, access.full), notice=notice)


# What only a fresh mailed link may do: the long-lived link is in every email's footer.
_NEEDS_MANAGE_LINK = frozenset({"name", "delete"})


def _export(ctx: SubscriberContext, subscriber_id: int) -> dict[str, object]:
    with transaction(ctx.sessions) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.erased:
            raise InvalidToken("this link is no longer valid")
        return subscriber_record(session, subscriber)


def _erase(ctx: SubscriberContext, subscriber_id: int) -> None:
    with transaction(ctx.sessions) as session:
        subscriber = session.get(Subscriber, subscriber_id, with_for_update=True)
        if subscriber is not None:
            erase(session, subscriber, ctx.leaving, ctx.erasure_hooks)


Step = Callable[[SubscriberContext, int, FormData], prefs.SubscriberView]


def _rename(ctx: SubscriberContext, sid: int, form: FormData) -> prefs.SubscriberView:
    return prefs.rename(ctx, sid, field(form, "first_name"))


def _profile(ctx: SubscriberContext, sid: int, form: FormData) -> prefs.SubscriberView:
    return prefs.set_profile(ctx, sid, clean_profile({n: field(form, n) for n in PROFILE_FIELDS}))


def _pause(ctx: SubscriberContext, sid: int, form: FormData) -> prefs.SubscriberView:
    weeks = prefs.parse_pause_weeks(field(form, "weeks"))
    return prefs.pause(ctx, sid, weeks)


def _resume(ctx: SubscriberContext, sid: int, _form: FormData) -> prefs.SubscriberView:
    return prefs.resume(ctx, sid)


def _unsubscribe(ctx: SubscriberContext, sid: int, _form: FormData) -> prefs.SubscriberView:
    return prefs.unsubscribe(ctx, sid, cause="unsubscribe:preferences")


def _resubscribe(ctx: SubscriberContext, sid: int, _form: FormData) -> prefs.SubscriberView:
    try:
        return prefs.resubscribe(ctx, sid)
    except (SendFailed, EmailRenderError):  # the status change stands, the person may retry
        log.exception("could not send a confirmation email")
        return prefs.subscriber_view(ctx, sid)


def _clicks(on: bool) -> Step:
    def step(ctx: SubscriberContext, sid: int, _form: FormData) -> prefs.SubscriberView:
        return prefs.set_click_tracking(ctx, sid, on)

    return step


_ACTIONS: dict[str, tuple[Step, str]] = {
    "clicks-off": (_clicks(False), "Done: your clicks are no longer counted; links go direct."),
    "clicks-on": (_clicks(True), "Thanks: clicks on your links are counted again."),
    "name": (_rename, "Your name is saved."),
    "profile": (_profile, "Saved: the next issue follows your profile."),
    "pause": (_pause, "Paused. Issues resume by themselves on the date shown."),
    "resume": (_resume, "Welcome back: issues resume with the next one."),
    "unsubscribe": (_unsubscribe, "You are unsubscribed and will get no more issues."),
    "resubscribe": (
        _resubscribe,
        "Almost there: we sent you an email with a link to confirm. Issues start once you do.",
    ),
}
