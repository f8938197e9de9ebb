"""Logging in: cookies, CSRF on the login form, fixation, open redirects, throttling, lockout."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.admin.models import Editor, EditorSession
from pipeline.admin.web import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from pipeline.web.app import create_app
from pulse_core.database import transaction
from tests.admin.conftest import PASSWORD, Desk, csrf_of, log_in, login_csrf, make_editor
from tests.conftest import MakePulse


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(desk: Desk) -> None:
    client = desk.client()
    token = login_csrf(client)
    response = client.post(
        "/admin/login",
        data={"email": "ED@example.com", "password": PASSWORD, "login_csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # the test base URL is plain http
    assert client.get("/admin", follow_redirects=False).status_code == 200
    logout = client.post(
        "/admin/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert logout.status_code == 303
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_session_cookie_is_secure_when_the_base_url_is_https(make_pulse: MakePulse) -> None:
    pulse = make_pulse(base_url="https://127.0.0.1")
    make_editor(pulse, "ed@example.com", "editor")
    client = TestClient(create_app(pulse), base_url="https://testserver")
    token = login_csrf(client)
    response = client.post(
        "/admin/login",
        data={"email": "ed@example.com", "password": PASSWORD, "login_csrf": token},
        follow_redirects=False,
    )
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    session_cookie = next(v for v in cookies if v.startswith(SESSION_COOKIE))
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(desk: Desk) -> None:
    client = desk.client()
    assert log_in(client, "ed@example.com", "wrong password!!") == 401
    assert log_in(client, "nobody@example.com", PASSWORD) == 401
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_login_form_without_its_csrf_token_is_refused(desk: Desk) -> None:
    client = desk.client()
    response = client.post(
        "/admin/login",
        data={"email": "ed@example.com", "password": PASSWORD, "login_csrf": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_a_session_id_planted_before_login_is_never_used(desk: Desk) -> None:
    attacker = desk.client()
    victim = desk.client()
    planted = "attacker-chosen-session-id"
    victim.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    assert log_in(victim, "ed@example.com") == 303
    issued = victim.cookies.get(SESSION_COOKIE)
    assert issued and issued != planted
    attacker.cookies.set(SESSION_COOKIE, planted)
    assert attacker.get("/admin", follow_redirects=False).status_code == 303


def test_logging_in_again_replaces_the_old_session(desk: Desk) -> None:
    client = desk.editor()
    first = client.cookies.get(SESSION_COOKIE)
    token = login_csrf(desk.client())
    client.cookies.set(LOGIN_CSRF_COOKIE, token, domain="testserver.local", path="/admin")
    response = client.post(
        "/admin/login",
        data={"email": "ed@example.com", "password": PASSWORD, "login_csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    second = client.cookies.get(SESSION_COOKIE)
    assert first and second and first != second
    stale = desk.client()
    stale.cookies.set(SESSION_COOKIE, first)
    assert stale.get("/admin", follow_redirects=False).status_code == 303


def test_session_ids_are_stored_only_as_hashes(desk: Desk) -> None:
    client = desk.editor()
    cookie = client.cookies.get(SESSION_COOKIE)
    with transaction(desk.pulse.db.sessions) as session:
        stored = session.scalars(select(EditorSession.token_hash)).all()
        hashes = session.scalars(select(Editor.password_hash)).all()
    assert stored and cookie not in stored
    assert all(h and h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/admin",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/admin\r\nLocation: https://evil.example",
    ],
)
def test_next_never_redirects_off_site(desk: Desk, target: str) -> None:
    client = desk.client()
    token = login_csrf(client, target)
    response = client.post(
        "/admin/login",
        data={"email": "ed@example.com", "password": PASSWORD, "next": target, "login_csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"


def test_next_brings_the_editor_back_to_the_page_they_asked_for(desk: Desk) -> None:
    client = desk.client()
    bounced = client.get("/admin/salary?x=1", follow_redirects=False)
    assert bounced.status_code == 303
    assert bounced.headers["location"] == "/admin/login?next=%2Fadmin%2Fsalary%3Fx%3D1"
    response = client.post(
        "/admin/login",
        data={
            "email": "ed@example.com",
            "password": PASSWORD,
            "next": "/admin/salary?x=1",
            "login_csrf": login_csrf(client),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin/salary?x=1"


def _page_text(client: TestClient, email: str, password: str) -> tuple[int, str]:
    response = client.post(
        "/admin/login",
        data={
            "email": email,
            "password": password,
            "next": "/admin",
            "login_csrf": login_csrf(client),
        },
        follow_redirects=False,
    )
    error = re.search(r'class="error"[^>]*>([^<]*)<', response.text)
    return response.status_code, error.group(1) if error else ""


def test_repeated_failures_throttle_an_address_alike_whether_or_not_it_exists(
    desk: Desk,
) -> None:
    answers = {}
    for n, email in enumerate(("ed@example.com", "nobody@example.com")):
        client = TestClient(desk.app, client=(f"192.0.2.{n + 1}", 4321))
        for _ in range(5):
            assert log_in(client, email, "not the password") == 401
        answers[email] = _page_text(client, email, PASSWORD)
    # Same status, same words: the throttle does not tell real accounts apart.
    assert answers["ed@example.com"] == answers["nobody@example.com"]
    assert (
        answers["ed@example.com"][0] == 429 and "Too many attempts" in answers["ed@example.com"][1]
    )
    # Another account is unaffected, and so is the same account from another source:
    # five requests from a stranger no longer lock the admin out.
    assert log_in(desk.client(), "boss@example.com") == 303
    elsewhere = TestClient(desk.app, client=("198.51.100.7", 4321))
    assert log_in(elsewhere, "ed@example.com") == 303


def test_one_client_is_throttled_after_too_many_attempts(make_pulse: MakePulse) -> None:
    pulse = make_pulse(admin_login_attempts_per_minute=3)
    make_editor(pulse, "ed@example.com", "editor")
    client = TestClient(create_app(pulse))
    statuses = [log_in(client, f"nobody{i}@example.com", "x" * 12) for i in range(3)]
    assert statuses == [401, 401, 401]
    assert log_in(client, "ed@example.com") == 429


def test_a_disabled_editor_is_logged_out_and_cannot_log_in(desk: Desk) -> None:
    editor = desk.editor()
    admin = desk.admin()
    response = admin.post(
        f"/admin/editors/{desk.editor_id}/disable",
        data={"csrf_token": csrf_of(admin)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert editor.get("/admin", follow_redirects=False).status_code == 303
    assert log_in(desk.client(), "ed@example.com") == 401


def test_control_characters_in_the_login_or_a_search_are_harmless(desk: Desk) -> None:
    client = desk.client()
    assert log_in(client, "ed@example.com\x00", PASSWORD) == 401
    assert log_in(client, "ed\x00@example.com", PASSWORD) == 401
    editor = desk.editor()
    response = editor.get("/admin/subscribers", params={"q": "a\x00b"})
    assert response.status_code == 200
