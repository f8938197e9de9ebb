"""The bot defences and validation every signup form runs once its token is genuine.

The site's own form (``POST /subscribe``) and the embedded one (``POST /embed/subscribe``)
prove their token differently (a cookie-bound form token, or an embed token), then both
call :func:`screen_signup`: honeypot, fill time, per-IP and per-address limits, address
and name checks, and the queued signup. One copy, so the two cannot drift apart.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request

from pulse_core.errors import ValidationError
from subscribers.addresses import email_key, normalise_email
from subscribers.context import WEB_CONSENT_TEXT, SubscriberContext
from subscribers.fields import clean_first_name
from subscribers.profile import PROFILE_FIELDS, clean_profile
from subscribers.ratelimit import SlidingWindowLimiter
from subscribers.signup import Consent, request_signup
from subscribers.web.forms import HONEYPOT_FIELD, WebPolicy, client_ip
from subscribers.web.forms import field as form_field

HOUR = 3600.0
REFERRAL_FIELD = "ref"


class Limits:
    """The per-IP and per-address limiters of one app (shared by every signup form)."""

    def __init__(self, policy: WebPolicy) -> None:
        self.per_ip = SlidingWindowLimiter(policy.per_ip_per_hour, HOUR)
        self.per_address = SlidingWindowLimiter(policy.per_address_per_hour, HOUR)


@dataclass(frozen=True)
class SignupFields:
    """What a signup form sent, as typed (checked by :func:`screen_signup`)."""

    email: str
    first_name: str
    referral_code: str
    honeypot: bool
    # role, level, region, timezone as the form sent them (subscribers.profile).
    profile: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, form: FormData) -> SignupFields:
        return cls(
            email=form_field(form, "email"),
            first_name=form_field(form, "first_name"),
            referral_code=form_field(form, REFERRAL_FIELD),
            honeypot=bool(form_field(form, HONEYPOT_FIELD)),
            profile={name: form_field(form, name) for name in PROFILE_FIELDS},
        )

    @property
    def values(self) -> dict[str, str]:
        """The values to show again in the form."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "ref": self.referral_code,
            **self.profile,
        }


class Verdict(enum.StrEnum):
    QUEUED = "queued"
    BOT = "bot"  # the honeypot was filled: answer as for a person, do nothing
    TOO_QUICK = "too-quick"  # faster than people type: ask again, values kept
    TOO_MANY = "too-many"
    INVALID = "invalid"


@dataclass(frozen=True)
class Screened:
    verdict: Verdict
    errors: dict[str, str] = field(default_factory=dict)
    retry_after: float = 0.0


async def screen_signup(
    request: Request,
    ctx: SubscriberContext,
    policy: WebPolicy,
    limits: Limits,
    fields: SignupFields,
    *,
    fill_seconds: float,
    source: str,
) -> Screened:
    """Run the defences and, if they pass, queue the signup (recorded after the answer)."""
    if fields.honeypot:
        return Screened(Verdict.BOT)
    if fill_seconds < policy.min_fill_seconds:
        return Screened(Verdict.TOO_QUICK)
    retry = limits.per_ip.hit(client_ip(request))
    if retry is not None:
        return Screened(Verdict.TOO_MANY, retry_after=retry)
    try:
        address = normalise_email(
            fields.email, check_deliverability=ctx.policy.check_deliverability
        )
        clean_first_name(fields.first_name)
        profile = clean_profile(fields.profile)
    except ValidationError as err:
        return Screened(Verdict.INVALID, errors={err.field: err.message})
    retry = limits.per_address.hit(email_key(address))
    if retry is not None:
        return Screened(Verdict.TOO_MANY, retry_after=retry)
    consent = Consent(
        text=WEB_CONSENT_TEXT,
        source=source,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    try:
        await run_in_threadpool(
            lambda: request_signup(
                ctx,
                address,
                fields.first_name,
                consent,
                profile,
                referral_code=fields.referral_code,
            )
        )
    except ValidationError as err:
        return Screened(Verdict.INVALID, errors={err.field: err.message})
    return Screened(Verdict.QUEUED)
