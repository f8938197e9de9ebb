"""Browser sessions of editors: random ids in an HttpOnly cookie, hashed in the table."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.admin.accounts import token_digest
from pipeline.admin.models import Editor, EditorSession, Role

# A session also ends after this long without a request, whatever its lifetime.
IDLE_TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class Actor:
    """Who is making a request: a plain snapshot, safe to use outside the transaction."""

    editor_id: int
    email: str
    role: Role
    csrf_token: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def actor_of(editor: Editor, csrf_token: str = "") -> Actor:
    return Actor(editor_id=editor.id, email=editor.email, role=editor.role, csrf_token=csrf_token)


def start_session(
    session: Session, editor: Editor, now: datetime, lifetime: timedelta
) -> tuple[str, Actor]:
    """A brand-new session id for ``editor`` (never one the browser brought: no fixation)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        EditorSession(
            token_hash=token_digest(token),
            editor_id=editor.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    # Expired sessions of anyone are swept here, where a write happens anyway.
    session.execute(delete(EditorSession).where(EditorSession.expires_at < now))
    session.flush()
    return token, actor_of(editor, csrf)


def resume_session(session: Session, token: str, now: datetime) -> Actor | None:
    """The actor behind a session cookie, or None when it is unknown, expired or idle."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(
        select(EditorSession).where(EditorSession.token_hash == token_digest(token))
    )
    if row is None:
        return None
    editor = session.get(Editor, row.editor_id)
    idle = row.last_seen_at + IDLE_TIMEOUT < now
    if editor is None or editor.disabled_at is not None or row.expires_at < now or idle:
        session.delete(row)
        return None
    # Writing last_seen on every request would serialise SQLite; once a minute is enough.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    return actor_of(editor, row.csrf_token)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(EditorSession).where(EditorSession.token_hash == token_digest(token)))


def end_sessions_of(session: Session, editor_id: int) -> None:
    """Log an editor out everywhere (password change, role change, disabling)."""
    session.execute(delete(EditorSession).where(EditorSession.editor_id == editor_id))
