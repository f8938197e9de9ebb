"""Editor accounts: argon2 passwords, one-time password-set links, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.admin.models import ApiToken, Editor, Role
from pipeline.errors import NotFoundError, PulseError, ValidationError
from pulse_core.database import utcnow
from subscribers.addresses import email_key, normalise_email

PASSWORD_LINK_LIFETIME = timedelta(days=3)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1000
API_TOKEN_PREFIX = "pulse_"  # noqa: S105 - a label, not a secret

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so a miss costs as much time as a hit.

    Made on the first login, not at import: an argon2 hash takes 64 MB and a third of a
    second, which every ``pulse`` process (a worker, a send) would pay for nothing.
    """
    return _hasher.hash(secrets.token_urlsafe(16))


class LoginRefused(PulseError):
    """Wrong address or password, or a disabled account: one answer for all of them."""


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy random token: what the tables store instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError as err:
        raise ValidationError("role", f"must be one of {', '.join(r.value for r in Role)}") from err


def find_editor(session: Session, email: str) -> Editor | None:
    return session.scalar(select(Editor).where(Editor.email_key == email_key(email.strip())))


@dataclass(frozen=True)
class PasswordLink:
    editor: Editor
    token: str
    expires_at: datetime


def issue_password_link(
    session: Session, editor: Editor, now: datetime | None = None
) -> PasswordLink:
    """A fresh one-time password-set token (any earlier one stops working)."""
    token = secrets.token_urlsafe(32)
    expires = (now or utcnow()) + PASSWORD_LINK_LIFETIME
    editor.password_token_hash = token_digest(token)
    editor.password_token_expires_at = expires
    session.flush()
    return PasswordLink(editor=editor, token=token, expires_at=expires)


def add_editor(session: Session, email: str, role: str) -> PasswordLink:
    """Create an account (or re-issue the link of an existing one) and return its link."""
    address = normalise_email(email)
    parsed_role = parse_role(role)
    editor = find_editor(session, address)
    if editor is None:
        editor = Editor(email=address, email_key=email_key(address), role=parsed_role)
        session.add(editor)
        session.flush()
    else:
        editor.role = parsed_role
        editor.disabled_at = None
    return issue_password_link(session, editor)


def check_password_rules(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    return password


def editor_for_password_token(session: Session, token: str, now: datetime) -> Editor:
    editor = session.scalar(select(Editor).where(Editor.password_token_hash == token_digest(token)))
    expires = editor.password_token_expires_at if editor else None
    if editor is None or expires is None or expires < now or editor.disabled_at is not None:
        raise NotFoundError("this password link is not valid (used, expired or replaced)")
    return editor


def set_password_with_token(session: Session, token: str, password: str, now: datetime) -> Editor:
    """Set the password named by a one-time link, and spend the link."""
    editor = editor_for_password_token(session, token, now)
    editor.password_hash = _hasher.hash(check_password_rules(password))
    editor.password_token_hash = None
    editor.password_token_expires_at = None
    editor.failed_logins = 0
    editor.locked_until = None
    session.flush()
    return editor


def authenticate(session: Session, email: str, password: str, now: datetime) -> Editor:
    """The editor whose password this is; count failures and lock after too many."""
    dummy = _dummy_hash()  # before the lookup: the first login pays for it, hit or miss
    usable = email.strip() and email.isprintable() and len(email) <= 320
    editor = find_editor(session, email) if usable else None
    if editor is None or editor.password_hash is None:
        _verify(dummy, password)
        raise LoginRefused("wrong email address or password")
    # No lockout here: it told real accounts apart ("locked", and faster) and let anyone
    # lock the admin out. The desk's LoginThrottle limits attempts for every address alike.
    if editor.disabled_at is not None or not _verify(editor.password_hash, password):
        editor.failed_logins += 1
        session.flush()
        raise LoginRefused("wrong email address or password")
    editor.failed_logins = 0
    editor.locked_until = None
    editor.last_login_at = now
    if _hasher.check_needs_rehash(editor.password_hash):
        editor.password_hash = _hasher.hash(password)
    session.flush()
    return editor


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class NewApiToken:
    row: ApiToken
    token: str  # shown once; only its hash is kept


def create_api_token(session: Session, editor: Editor, name: str) -> NewApiToken:
    label = name.strip()
    if not label or len(label) > 100:
        raise ValidationError("name", "give the token a name of 1 to 100 characters")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        editor_id=editor.id, name=label, prefix=token[:12], token_hash=token_digest(token)
    )
    session.add(row)
    session.flush()
    return NewApiToken(row=row, token=token)


def editor_for_api_token(session: Session, token: str, now: datetime) -> Editor | None:
    """The (enabled) owner of a live token, or None."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    editor = session.get(Editor, row.editor_id)
    if editor is None or editor.disabled_at is not None:
        return None
    row.last_used_at = now
    return editor


def revoke_api_token(session: Session, editor: Editor, token_id: int, now: datetime) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or (row.editor_id != editor.id and editor.role is not Role.ADMIN):
        raise NotFoundError("no such token")
    row.revoked_at = row.revoked_at or now
