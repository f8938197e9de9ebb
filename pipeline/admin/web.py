"""What every desk page shares: templates, who is asking, CSRF, safe redirects, errors."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pipeline.admin.accounts import editor_for_api_token
from pipeline.admin.sessions import Actor, actor_of, resume_session
from pipeline.issues.markdown import markdown_to_html
from pipeline.resources import templates_dir
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from pulse_core.errors import PulseError
from subscribers.ratelimit import SlidingWindowLimiter

SESSION_COOKIE = "pulse_session"
LOGIN_CSRF_COOKIE = "pulse_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FLASH_COOKIE = "pulse_flash"
MAX_FLASH_LENGTH = 300

# Desk pages run no third-party code; the email preview iframe gets its own, stricter policy.
DESK_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
)


class DeskError(PulseError):
    """A request the desk refuses, shown as a friendly page with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(DeskError):
    """Nobody is logged in: send the browser to the login page, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(401, "please log in")
        self.next_path = next_path


def web_templates() -> Path:
    """The desk's templates (``web/`` of the templates in use)."""
    return templates_dir() / "web"


def environment() -> Environment:
    return _environment(web_templates())


@lru_cache(maxsize=2)
def _environment(folder: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"
    return env


def pulse_of(request: Request) -> Pulse:
    pulse: Pulse = request.app.state.pulse
    return pulse


def desk_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = DESK_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def page(
    request: Request, template: str, actor: Actor | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render a desk template with the actor, CSRF token and flash notice every layout needs."""
    flash = flash_of(request)
    body = (
        environment()
        .get_template(template)
        .render(
            request=request,
            actor=actor,
            csrf=actor.csrf_token if actor else "",
            flash=flash,
            **context,
        )
    )
    response = HTMLResponse(body, status_code=status)
    desk_headers(response)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def flash_of(request: Request) -> str | None:
    """The notice the server set on the previous response (never one from the URL)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    return unquote(raw)[:MAX_FLASH_LENGTH] or None


def redirect(path: str, *, message: str | None = None) -> RedirectResponse:
    """303 to a local path, optionally with a one-line notice for the next page.

    The notice travels in a short-lived cookie only this server sets (a flash message), so
    nobody can make the desk show an official-looking banner with a crafted link.
    """
    response = RedirectResponse(path, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE,
            quote(message[:MAX_FLASH_LENGTH]),
            max_age=60,
            httponly=True,
            samesite="strict",
            path="/",
        )
    return response


def safe_next(value: str | None, default: str = "/admin") -> str:
    """A post-login destination: only paths on this site, never another origin."""
    if not value:
        return default
    parts = urlsplit(value)
    local = (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and not parts.scheme
        and not parts.netloc
        and all(32 < ord(ch) < 127 for ch in value)
    )
    return value if local else default


def cookie_is_secure(request: Request) -> bool:
    return pulse_of(request).settings.base_url.startswith("https://")


def current_actor(request: Request) -> Actor | None:
    """Who the session cookie belongs to (looked up once per request)."""
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    actor = None
    if token:
        with transaction(pulse_of(request).db.sessions) as session:
            actor = resume_session(session, token, utcnow())
    request.state.actor = actor
    return actor


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def require_editor(request: Request) -> Actor:
    """Any logged-in editor (admins included)."""
    actor = current_actor(request)
    if actor is None:
        raise LoginRequired(_here(request) if request.method == "GET" else "/admin")
    return actor


def require_admin(request: Request) -> Actor:
    actor = require_editor(request)
    if not actor.is_admin:
        raise DeskError(403, "only admins can do this")
    return actor


EditorActor = Annotated[Actor, Depends(require_editor)]
AdminActor = Annotated[Actor, Depends(require_admin)]


def sanitised_html(markdown: str) -> Markup:
    """Editor Markdown as the email will carry it, safe to embed in a desk page."""
    # nh3 has already removed every tag and attribute outside the email's allow-list.
    return Markup(markdown_to_html(markdown))  # noqa: S704


async def check_csrf(request: Request, actor: Actor) -> None:
    """The form (or the X-CSRF-Token header) must carry this session's token."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not sent or not secrets.compare_digest(sent, actor.csrf_token):
        raise DeskError(403, "this form has expired or did not come from the desk; reload it")


async def editor_form(request: Request) -> Actor:
    """A POST by a logged-in editor with a valid CSRF token."""
    actor = require_editor(request)
    await check_csrf(request, actor)
    return actor


async def admin_form(request: Request) -> Actor:
    """A POST by a logged-in admin with a valid CSRF token."""
    actor = require_admin(request)
    await check_csrf(request, actor)
    return actor


def api_actor(request: Request) -> Actor | None:
    """The owner of the request's bearer token, if it is live."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    with transaction(pulse_of(request).db.sessions) as session:
        editor = editor_for_api_token(session, token.strip(), utcnow())
        return actor_of(editor) if editor else None


class LoginThrottle:
    """Login attempts limited per source, per (account, source) and per account.

    Every limit keys on the address as typed, whether or not an account has it, and is
    checked before the password is, so the answer (and its timing) is the same for real
    and unknown accounts. A stranger who fails from one address blocks only that pair;
    locking an account out for everyone takes ``per_account`` failures an hour from
    anywhere, far more than any one source is allowed. Memory is bounded
    (:class:`SlidingWindowLimiter`).
    """

    def __init__(
        self,
        per_source_per_minute: int,
        *,
        per_pair: int = 5,
        pair_window: float = 15 * 60.0,
        per_account_per_hour: int = 50,
    ) -> None:
        self.per_source = SlidingWindowLimiter(per_source_per_minute, 60.0)
        self.per_pair = SlidingWindowLimiter(per_pair, pair_window)
        self.per_account = SlidingWindowLimiter(per_account_per_hour, 3600.0)

    @staticmethod
    def _account(email: str) -> str:
        return email.strip().lower()[:320]

    def check(self, source: str, email: str) -> float | None:
        """Count an attempt from ``source``; seconds to wait, or None when it may go ahead."""
        account = self._account(email)
        waits = [
            self.per_pair.retry_after(f"{account}|{source}"),
            self.per_account.retry_after(account),
            self.per_source.hit(source),
        ]
        found = [wait for wait in waits if wait is not None]
        return max(found) if found else None

    def failed(self, source: str, email: str) -> None:
        """Count a failed attempt against the account (and this source's tries at it)."""
        account = self._account(email)
        self.per_pair.hit(f"{account}|{source}")
        self.per_account.hit(account)


async def _desk_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DeskError)
    if isinstance(exc, LoginRequired):
        return redirect(f"/admin/login?next={quote(exc.next_path, safe='')}")
    return page(
        request, "admin/error.html", current_actor(request), exc.status, message=exc.message
    )


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(DeskError, _desk_error)
