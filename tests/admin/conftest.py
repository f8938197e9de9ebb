"""Fixtures for the editors' desk: an app, accounts, and logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeline.admin import accounts
from pipeline.admin.accounts import add_editor, create_api_token, set_password_with_token
from pipeline.admin.models import Editor
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pipeline.workflow.worker import run_worker
from pulse_core.database import transaction, utcnow

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def make_editor(pulse: Pulse, email: str, role: str, password: str = PASSWORD) -> int:
    with transaction(pulse.db.sessions) as session:
        link = add_editor(session, email, role)
        set_password_with_token(session, link.token, password, utcnow())
        return link.editor.id


def api_token_for(pulse: Pulse, editor_id: int) -> str:
    with transaction(pulse.db.sessions) as session:
        editor = session.get(Editor, editor_id)
        assert editor is not None
        return create_api_token(session, editor, "tests").token


def login_csrf(client: TestClient, next_path: str = "/admin") -> str:
    page = client.get("/admin/login", params={"next": next_path})
    match = _LOGIN_CSRF.search(page.text)
    assert match, page.text
    return match.group(1)


def log_in(
    client: TestClient, email: str, password: str = PASSWORD, next_path: str = "/admin"
) -> int:
    """Submit the login form like a browser; returns the response status."""
    token = login_csrf(client, next_path)
    response = client.post(
        "/admin/login",
        data={"email": email, "password": password, "next": next_path, "login_csrf": token},
        follow_redirects=False,
    )
    return response.status_code


def csrf_of(client: TestClient, path: str = "/admin") -> str:
    match = _CSRF.search(client.get(path).text)
    assert match, "no CSRF token on the page (not logged in?)"
    return match.group(1)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with minimal cost: these tests are about the flows, not the hash's strength."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@dataclass
class Desk:
    pulse: Pulse
    app: FastAPI
    editor_id: int
    admin_id: int

    def client(self) -> TestClient:
        return TestClient(self.app)

    def editor(self) -> TestClient:
        client = self.client()
        assert log_in(client, "ed@example.com") == 303
        return client

    def admin(self) -> TestClient:
        client = self.client()
        assert log_in(client, "boss@example.com") == 303
        return client

    def run_requested_sends(self) -> None:
        """What ``pulse worker`` does with a desk's "send now" or "retry failed": the desk
        itself sends nothing."""
        run_worker(self.pulse, poll_seconds=0, exit_when_idle=True)


@pytest.fixture
def desk(pulse: Pulse) -> Iterator[Desk]:
    editor_id = make_editor(pulse, "ed@example.com", "editor")
    admin_id = make_editor(pulse, "boss@example.com", "admin")
    app = create_app(pulse)
    yield Desk(pulse=pulse, app=app, editor_id=editor_id, admin_id=admin_id)
