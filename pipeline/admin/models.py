"""Tables of the editors' desk: editors, their browser sessions and their API tokens.

Every secret (password, session id, API token, password-set token) is stored only as a
hash: a leaked database does not let anyone log in.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.models import status_enum


class Role(enum.StrEnum):
    """Editors manage content; admins also manage editors and subscribers' erasure."""

    EDITOR = "editor"
    ADMIN = "admin"


class Editor(Base):
    """A person who can log in to the desk."""

    __tablename__ = "editors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased address: one account per address on every backend.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[Role] = mapped_column(status_enum(Role, "editor_role"))
    # argon2id hash; None until the editor followed their password-set link.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the one-time password-set token, and when it stops working.
    password_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EditorSession(Base):
    """A logged-in browser. The cookie carries the id; the table keeps only its hash."""

    __tablename__ = "editor_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("editors.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for the JSON API, owned by one editor and acting with their role."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("editors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, shown in lists so editors can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
