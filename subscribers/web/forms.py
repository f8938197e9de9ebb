"""Form safety: single-use CSRF tokens bound to a cookie, honeypot, fill time, field reading."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from pulse_core.database import transaction, utcnow
from pulse_core.errors import PulseError
from subscribers.models import UsedFormToken
from subscribers.tokens import InvalidToken, TokenSigner

CSRF_COOKIE = "pulse_form"
CSRF_FIELD = "form_token"
HONEYPOT_FIELD = "website"  # hidden from people; bots fill it in
MAX_FIELD_LENGTH = 2000
FORM_MAX_AGE_SECONDS = 2 * 60 * 60


@dataclass(frozen=True)
class WebPolicy:
    """Abuse limits of the public forms."""

    min_fill_seconds: float = 2.0
    per_ip_per_hour: int = 20
    per_address_per_hour: int = 5
    # The base URL is https: cookies are Secure and responses carry HSTS.
    secure_cookies: bool = False
    # PULSE_EMBED_ORIGINS: the sites whose pages may carry the embedded form (none: off).
    embed_origins: tuple[str, ...] = ()


class FormRejected(PulseError):
    """The form's CSRF token is missing, forged, expired or not this browser's."""


@dataclass(frozen=True)
class FormCheck:
    """A genuine form submission and how long the visitor took to fill it."""

    fill_seconds: float


class FormGuard:
    """Issues and checks double-submit CSRF tokens (signed, timestamped, cookie-bound)."""

    def __init__(self, signer: TokenSigner, policy: WebPolicy) -> None:
        self.signer = signer
        self.policy = policy

    def issue(self, request: Request) -> tuple[str, str]:
        """The browser's nonce (existing or new) and a fresh form token for it."""
        nonce = request.cookies.get(CSRF_COOKIE) or ""
        if not (16 <= len(nonce) <= 64 and nonce.isascii()):
            nonce = secrets.token_urlsafe(24)
        return nonce, self.signer.form_token(nonce)

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            max_age=FORM_MAX_AGE_SECONDS,
            httponly=True,
            samesite="strict",
            secure=self.policy.secure_cookies,
            path="/",
        )

    def check(self, request: Request, form: FormData) -> FormCheck:
        """Verify the token against the cookie; raise :class:`FormRejected` if it fails."""
        token = field(form, CSRF_FIELD)
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        if not token or not cookie:
            raise FormRejected("missing form token or cookie")
        try:
            nonce, issued = self.signer.read_form_token(token, FORM_MAX_AGE_SECONDS)
        except InvalidToken as err:
            raise FormRejected(str(err)) from err
        if not secrets.compare_digest(nonce.encode(), cookie.encode()):
            raise FormRejected("the form token is not this browser's")
        issued_at = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
        return FormCheck((datetime.now(UTC) - issued_at).total_seconds())


def spend_form_token(sessions: sessionmaker[Session], token: str) -> bool:
    """Mark a (verified) form token used; False if it was used before.

    Kept in the database, not in memory, so a replay to another worker process fails too.
    Spent tokens older than a form's lifetime are pruned: they fail the age check anyway.
    """
    digest = hashlib.sha256(token.encode()).hexdigest()
    now = utcnow()
    try:
        with transaction(sessions) as session:
            session.execute(
                delete(UsedFormToken).where(
                    UsedFormToken.used_at < now - timedelta(seconds=FORM_MAX_AGE_SECONDS)
                )
            )
            session.add(UsedFormToken(digest=digest, used_at=now))
    except IntegrityError:
        return False
    return True


def field(form: FormData, name: str) -> str:
    """A text field's value ('' when absent, a file, or absurdly long)."""
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return ""
    return value[:MAX_FIELD_LENGTH]


async def read_form(request: Request) -> FormData:
    """Parse an urlencoded or multipart body with tight limits; files are not accepted."""
    return await request.form(max_files=0, max_fields=30, max_part_size=64 * 1024)


def client_ip(request: Request) -> str:
    """The client's address (uvicorn resolves trusted proxies' X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"
