"""Logging in and out, and setting a password from a one-time link."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from pipeline.admin.accounts import (
    LoginRefused,
    authenticate,
    editor_for_password_token,
    set_password_with_token,
)
from pipeline.admin.sessions import end_session, end_sessions_of, start_session
from pipeline.admin.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    cookie_is_secure,
    current_actor,
    editor_form,
    page,
    pulse_of,
    redirect,
    safe_next,
)
from pipeline.errors import NotFoundError, ValidationError
from pulse_core.database import transaction, utcnow


def _login_page(request: Request, next_path: str, error: str | None, status: int) -> Response:
    # A pre-session CSRF token for the login form itself (double-submit cookie), so another
    # site cannot log a browser in to an account of its choosing.
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "admin/login.html",
        None,
        status,
        next_path=next_path,
        login_csrf=token,
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=cookie_is_secure(request),
        samesite="lax",
        path="/admin",
    )
    return response


def auth_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/login")
    def login_form(request: Request, next: str = "/admin") -> Response:
        if current_actor(request) is not None:
            return redirect(safe_next(next))
        return _login_page(request, safe_next(next), None, 200)

    @router.post("/login")
    def login(
        request: Request,
        email: str = Form(""),
        password: str = Form(""),
        next: str = Form("/admin"),
        login_csrf: str = Form(""),
    ) -> Response:
        pulse = pulse_of(request)
        destination = safe_next(next)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not login_csrf or not secrets.compare_digest(cookie, login_csrf):
            return _login_page(request, destination, "The form expired; please try again.", 403)
        throttle: LoginThrottle = request.app.state.login_throttle
        client = request.client.host if request.client else "unknown"
        wait = throttle.check(client, email)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            message = f"Too many attempts; wait about {minutes} minute(s) and try again."
            return _login_page(request, destination, message, 429)
        now = utcnow()
        refused: LoginRefused | None = None
        with transaction(pulse.db.sessions) as session:
            try:
                editor = authenticate(session, email, password, now)
            except LoginRefused as err:
                # Caught inside the transaction: the failure count must be committed.
                refused = err
            else:
                # Whatever session id the browser brought is dropped: a fresh one is issued.
                old = request.cookies.get(SESSION_COOKIE)
                if old:
                    end_session(session, old)
                lifetime = timedelta(hours=pulse.settings.admin_session_hours)
                token, _actor = start_session(session, editor, now, lifetime)
        if refused is not None:
            throttle.failed(client, email)
            return _login_page(request, destination, str(refused), 401)
        response = redirect(destination)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=pulse.settings.admin_session_hours * 3600,
            httponly=True,
            secure=cookie_is_secure(request),
            samesite="lax",
            path="/",
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        await editor_form(request)
        with transaction(pulse_of(request).db.sessions) as session:
            end_session(session, request.cookies.get(SESSION_COOKIE, ""))
        response = redirect("/admin/login", message="You are logged out.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/set-password/{token}")
    def password_form(request: Request, token: str) -> Response:
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                editor = editor_for_password_token(session, token, utcnow())
                email = editor.email
        except NotFoundError as err:
            return page(request, "admin/error.html", None, 404, message=str(err))
        return page(request, "admin/set_password.html", None, email=email, token=token, error=None)

    @router.post("/set-password/{token}")
    def set_password(
        request: Request, token: str, password: str = Form(""), confirm: str = Form("")
    ) -> Response:
        pulse = pulse_of(request)
        email = ""
        try:
            # The link first: a bad link is a 404 whatever the form says.
            with transaction(pulse.db.sessions) as session:
                email = editor_for_password_token(session, token, utcnow()).email
            if password != confirm:
                raise ValidationError("confirm", "the two passwords differ")
            with transaction(pulse.db.sessions) as session:
                editor = set_password_with_token(session, token, password, utcnow())
                end_sessions_of(session, editor.id)
        except NotFoundError as err:
            return page(request, "admin/error.html", None, 404, message=str(err))
        except ValidationError as err:
            return page(
                request, "admin/set_password.html", None, 400, email=email, token=token, error=err
            )
        return redirect("/admin/login", message="Password set. Log in with it now.")

    return router
