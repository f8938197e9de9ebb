"""Issue 12 items 5 and 10: inputs that used to answer 5xx (or buffer without limit)."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pipeline.config import load_settings
from pipeline.content.models import SalaryPoint
from pipeline.events.models import ProviderEvent
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.admin.conftest import Desk, api_token_for, cheap_password_hashing, csrf_of, desk
from tests.conftest import Workspace

__all__ = ["cheap_password_hashing", "desk"]

NESTED = b"[" * 100_000 + b"]" * 100_000


def _events(pulse: Pulse) -> int:
    with transaction(pulse.db.sessions) as session:
        return session.scalar(select(func.count()).select_from(ProviderEvent)) or 0


@pytest.mark.parametrize("provider", ["postmark", "sendgrid", "mailgun", "ses", "resend"])
def test_deeply_nested_json_to_a_webhook_is_a_4xx(desk: Desk, provider: str) -> None:
    response = desk.client().post(
        f"/webhooks/{provider}", content=NESTED, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


def test_deeply_nested_json_after_valid_auth_is_a_400(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Postmark authenticates with basic auth, before the body is parsed.
    monkeypatch.setenv("PULSE_POSTMARK_WEBHOOK_USER", "hook")
    monkeypatch.setenv("PULSE_POSTMARK_WEBHOOK_PASSWORD", "s3cret-hook-pass")
    pulse = Pulse(load_settings())
    try:
        response = TestClient(create_app(pulse)).post(
            "/webhooks/postmark",
            content=NESTED,
            headers={"content-type": "application/json"},
            auth=("hook", "s3cret-hook-pass"),
        )
        assert response.status_code == 400 and "nested" in response.text
        assert _events(pulse) == 0
    finally:
        pulse.close()


def test_a_chunked_webhook_body_is_cut_off_at_the_limit(desk: Desk) -> None:
    limit = desk.pulse.settings.webhook_max_body_bytes
    sent = 0

    def chunks():  # type: ignore[no-untyped-def]
        nonlocal sent
        block = b"x" * 65536
        while sent < limit * 4:
            sent += len(block)
            yield block

    response = desk.client().post("/webhooks/postmark", content=chunks())
    assert response.status_code == 413
    assert "content-length" not in {k.lower() for k in response.request.headers}


@pytest.mark.parametrize("path", ["/subscribe", "/admin/login", "/u/x"])
def test_a_chunked_form_body_is_cut_off_too(desk: Desk, path: str) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(120):  # 7.8 MB: past the desk's 6 MB and the public 1 MB
            yield b"a=" + b"x" * 65536

    response = desk.client().post(
        path, content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


def test_mismatched_passwords_on_an_unknown_set_password_link_are_a_4xx(desk: Desk) -> None:
    response = desk.client().post(
        "/admin/set-password/x", data={"password": "a" * 20, "confirm": "b" * 20}
    )
    assert response.status_code == 404 and "not valid" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/subscribers/123456789012345678901234567890",
        "/admin/content/123456789012345678901234567890/edit",
    ],
)
def test_a_30_digit_id_in_a_desk_url_is_a_4xx(desk: Desk, path: str) -> None:
    response = desk.editor().get(path)
    assert response.status_code == 404  # no record can have it


@pytest.mark.parametrize(
    "path",
    [
        "/admin/subscribers/123456789012345678901234567890/unsubscribe",
        "/admin/content/123456789012345678901234567890/retire",
    ],
)
def test_a_30_digit_id_in_a_desk_form_is_a_4xx(desk: Desk, path: str) -> None:
    client = desk.admin()
    response = client.post(path, data={"csrf_token": csrf_of(client)})
    assert response.status_code == 404  # no record can have it


@pytest.mark.parametrize(
    ("week", "api_status"),
    # Years outside 2000-2999 are refused by the API's declared pattern; 2026 has a week 53.
    [("9999-W52", 422), ("9999-W01", 422), ("0001-W01", 422), ("2026-W53", 200)],
)
def test_an_extreme_week_in_the_desk_and_api_is_never_a_5xx(
    desk: Desk, week: str, api_status: int
) -> None:
    client = desk.editor()
    for path in (f"/admin/issue?week={week}", f"/admin/issue/preview?week={week}"):
        assert client.get(path).status_code < 500, path
    api = desk.client()
    token = api_token_for(desk.pulse, desk.editor_id)
    answer = api.get(f"/api/v1/issues/{week}", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == api_status


def test_a_salary_csv_field_over_128_kb_is_a_clear_400(desk: Desk) -> None:
    client = desk.editor()
    big = "x" * (200 * 1024)
    content = f'role,region,currency,low,high,sample_size\n"{big}",US,USD,1,2,3\n'
    response = client.post(
        "/admin/salary/import",
        data={"csrf_token": csrf_of(client)},
        files={"file": ("points.csv", io.BytesIO(content.encode()), "text/csv")},
    )
    assert response.status_code == 400 and "line" in response.text
    with transaction(desk.pulse.db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(SalaryPoint)) == 0


def test_unknown_routes_with_odd_input_are_never_5xx(desk: Desk) -> None:
    client: TestClient = desk.client()
    for path in ("/%00", "/u/%ff%fe", "/preferences/" + "a" * 5000, "/recover/%00"):
        assert client.get(path).status_code < 500, path
