"""What every desk page shares: templates, who is asking, CSRF, safe redirects, errors."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pipeline.admin.accounts import editor_for_api_token
from pipeline.admin.sessions import Actor, actor_of, resume_session
from pipeline.issues.markdown import markdown_to_html
from pipeline.resources import templates_dir
from pipeline.wiring import Pulse
from subscribers.database import transaction, utcnow

SESSION_COOKIE = "pulse_session"
LOGIN_CSRF_COOKIE = "pulse_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# Desk pages run no third-party code; the email preview iframe gets its own, stricter policy.
DESK_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
)


class DeskError(Exception):
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
    """Render a desk template with the actor and CSRF token every layout needs."""
    body = (
        environment()
        .get_template(template)
        .render(request=request, actor=actor, csrf=actor.csrf_token if actor else "", **context)
    )
    response = HTMLResponse(body, status_code=status)
    desk_headers(response)
    return response


def redirect(path: str, *, message: str | None = None) -> RedirectResponse:
    """303 to a local path, optionally with a one-line notice for the next page."""
    if message:
        separator = "&" if "?" in path else "?"
        path = f"{path}{separator}notice={quote(message)}"
    return RedirectResponse(path, status_code=303)


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
    """At most ``limit`` login attempts per client address per minute (per process).

    Complements the per-account lockout kept in the database: this one stops a client
    spraying many accounts, the lockout stops many clients hammering one account.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._attempts: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        attempts = self._attempts[client]
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        if len(attempts) >= self.limit:
            return False
        attempts.append(now)
        return True


async def _desk_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DeskError)
    if isinstance(exc, LoginRequired):
        return redirect(f"/admin/login?next={quote(exc.next_path, safe='')}")
    return page(
        request, "admin/error.html", current_actor(request), exc.status, message=exc.message
    )


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(DeskError, _desk_error)
