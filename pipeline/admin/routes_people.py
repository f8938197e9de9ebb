"""Subscribers (search, status, consent, history, unsubscribe, forget), editors and API tokens."""

from __future__ import annotations

import io

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from pipeline.admin.accounts import add_editor, create_api_token, parse_role, revoke_api_token
from pipeline.admin.models import ApiToken, Editor
from pipeline.admin.people import get_subscriber
from pipeline.admin.people_page import subscribers_page
from pipeline.admin.sessions import Actor, end_sessions_of
from pipeline.admin.web import (
    AdminActor,
    DeskError,
    EditorActor,
    admin_form,
    editor_form,
    page,
    pulse_of,
    redirect,
)
from pipeline.errors import NotFoundError, PulseError
from pulse_core.database import transaction, utcnow
from subscribers.history import history_of
from subscribers.preferences import unsubscribe as unsubscribe_subscriber
from subscribers.privacy import erase, write_export_csv
from subscribers.segments import parse_segment


def people_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/subscribers")
    def subscribers(
        request: Request, actor: EditorActor, q: str = "", by: str = "level"
    ) -> Response:
        return subscribers_page(request, actor, q=q, by=by)

    @router.get("/subscribers/export.csv")
    def export_segment(request: Request, actor: AdminActor, segment: str = "") -> Response:
        # Addresses and consent records: admins only, as erasure is.
        try:
            chosen = parse_segment(segment)
        except PulseError as err:
            raise DeskError(400, str(err)) from err
        out = io.StringIO()
        with transaction(pulse_of(request).db.sessions) as session:
            write_export_csv(session, out, where=chosen.where())
        response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
        return response

    @router.get("/subscribers/{subscriber_id}")
    def subscriber(request: Request, subscriber_id: int, actor: EditorActor) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            try:
                person = get_subscriber(session, subscriber_id)
            except NotFoundError as err:
                raise DeskError(404, str(err)) from err
            history = history_of(session, subscriber_id)
        return page(request, "admin/subscriber.html", actor, person=person, history=history)

    @router.post("/subscribers/{subscriber_id}/unsubscribe")
    async def unsubscribe(request: Request, subscriber_id: int) -> Response:
        actor = await admin_form(request)
        pulse = pulse_of(request)
        with transaction(pulse.db.sessions) as session:
            try:
                get_subscriber(session, subscriber_id)
            except NotFoundError as err:
                raise DeskError(404, str(err)) from err
        unsubscribe_subscriber(
            pulse.subscribers, subscriber_id, cause="admin", detail=f"by {actor.email}"
        )
        return redirect(f"/admin/subscribers/{subscriber_id}", message="Unsubscribed.")

    @router.post("/subscribers/{subscriber_id}/forget")
    async def forget(request: Request, subscriber_id: int, confirm: str = Form("")) -> Response:
        await admin_form(request)
        if confirm != "yes":
            raise DeskError(400, "tick the box to confirm the erasure")
        pulse = pulse_of(request)
        with transaction(pulse.db.sessions) as session:
            try:
                person = get_subscriber(session, subscriber_id)
            except NotFoundError as err:
                raise DeskError(404, str(err)) from err
            ctx = pulse.subscribers
            erase(session, person, ctx.leaving, ctx.erasure_hooks)
        return redirect("/admin/subscribers", message="Subscriber forgotten; address suppressed.")

    # --- API tokens (each editor their own) ---------------------------------------------

    def tokens_page(request: Request, actor: Actor, new_token: str | None = None) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            rows = list(
                session.scalars(
                    select(ApiToken)
                    .where(ApiToken.editor_id == actor.editor_id)
                    .order_by(ApiToken.created_at.desc())
                )
            )
        return page(request, "admin/tokens.html", actor, tokens=rows, new_token=new_token)

    @router.get("/tokens")
    def tokens(request: Request, actor: EditorActor) -> Response:
        return tokens_page(request, actor)

    @router.post("/tokens")
    async def new_token(request: Request, name: str = Form("")) -> Response:
        actor = await editor_form(request)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                editor = session.get(Editor, actor.editor_id)
                assert editor is not None
                created = create_api_token(session, editor, name)
        except PulseError as err:
            raise DeskError(400, str(err)) from err
        return tokens_page(request, actor, new_token=created.token)

    @router.post("/tokens/{token_id}/revoke")
    async def revoke(request: Request, token_id: int) -> Response:
        actor = await editor_form(request)
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                editor = session.get(Editor, actor.editor_id)
                assert editor is not None
                revoke_api_token(session, editor, token_id, utcnow())
        except NotFoundError as err:
            raise DeskError(404, str(err)) from err
        return redirect("/admin/tokens", message="Token revoked.")

    # --- editors (admins only) ----------------------------------------------------------

    @router.get("/editors")
    def editors(request: Request, actor: AdminActor) -> Response:
        with transaction(pulse_of(request).db.sessions) as session:
            rows = list(session.scalars(select(Editor).order_by(Editor.email_key)))
        return page(request, "admin/editors.html", actor, editors=rows, link=None)

    @router.post("/editors")
    async def invite(request: Request, email: str = Form(""), role: str = Form("")) -> Response:
        actor = await admin_form(request)
        pulse = pulse_of(request)
        try:
            with transaction(pulse.db.sessions) as session:
                link = add_editor(session, email, role)
                url = f"{pulse.settings.base_url}/admin/set-password/{link.token}"
            with transaction(pulse.db.sessions) as session:
                rows = list(session.scalars(select(Editor).order_by(Editor.email_key)))
        except PulseError as err:
            raise DeskError(400, str(err)) from err
        return page(request, "admin/editors.html", actor, editors=rows, link=url)

    @router.post("/editors/{editor_id}/role")
    async def change_role(request: Request, editor_id: int, role: str = Form("")) -> Response:
        actor = await admin_form(request)
        if editor_id == actor.editor_id:
            raise DeskError(400, "you cannot change your own role")
        try:
            with transaction(pulse_of(request).db.sessions) as session:
                editor = session.get(Editor, editor_id)
                if editor is None:
                    raise NotFoundError(f"no editor {editor_id}")
                editor.role = parse_role(role)
                end_sessions_of(session, editor.id)
        except NotFoundError as err:
            raise DeskError(404, str(err)) from err
        except PulseError as err:
            raise DeskError(400, str(err)) from err
        return redirect("/admin/editors", message="Role changed.")

    @router.post("/editors/{editor_id}/disable")
    async def disable(request: Request, editor_id: int) -> Response:
        actor = await admin_form(request)
        if editor_id == actor.editor_id:
            raise DeskError(400, "you cannot disable yourself")
        with transaction(pulse_of(request).db.sessions) as session:
            editor = session.get(Editor, editor_id)
            if editor is None:
                raise DeskError(404, f"no editor {editor_id}")
            editor.disabled_at = editor.disabled_at or utcnow()
            end_sessions_of(session, editor.id)
        return redirect("/admin/editors", message="Editor disabled.")

    return router
