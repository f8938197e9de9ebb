"""Whatever an authentic provider sends, the webhook answers 200 or 400, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import load_settings
from pipeline.events.webhooks import webhook_router
from pipeline.wiring import Pulse
from tests.events.conftest import (
    FakeFetcher,
    Keys,
    mailgun_body,
    postmark_auth,
    resend_headers,
    sendgrid_headers,
    sns_envelope,
)

KEYS = [
    "RecordType", "Type", "Email", "Recipient", "MessageID", "ID", "BouncedAt", "DeliveredAt",
    "SuppressSending", "SuppressionReason", "event", "email", "timestamp", "sg_message_id",
    "sg_event_id", "type", "reason", "event-data", "recipient", "id", "severity", "message",
    "headers", "message-id", "delivery-status", "notificationType", "eventType", "mail",
    "bounce", "bounceType", "bouncedRecipients", "emailAddress", "complaint",
    "complainedRecipients", "delivery", "recipients", "destination", "messageId", "data", "to",
    "email_id", "created_at", "feedbackId", "Message",
]  # fmt: skip
WORDS = [
    "Bounce", "HardBounce", "SoftBounce", "SpamComplaint", "SubscriptionChange", "Delivery",
    "bounce", "blocked", "dropped", "failed", "permanent", "temporary", "Permanent",
    "Complaint", "email.bounced", "email.complained", "reader000001@example.com",
    "Reader000001@Example.com", "<a@b>", "2026-11-24T14:02:11Z", "2026-13-45T99:00:00",
    "Notification", "Bounced Address", "", " ", "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "253402300800", "-1e30",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(WORDS)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=25,
)
objects = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys, fetcher: FakeFetcher
) -> Iterator[TestClient]:
    """Property tests explore the parsers: one backend (SQLite) is enough and keeps them quick."""
    monkeypatch.chdir(tmp_path)
    wiring = Pulse(
        load_settings(
            database_url=f"sqlite:///{tmp_path / 'pulse.db'}",
            var_dir=tmp_path / "var",
            **keys.settings(),
        )
    )
    app = FastAPI()
    app.include_router(webhook_router(wiring.webhooks, http_get=fetcher))
    yield TestClient(app)
    wiring.close()


def assert_client_error_at_most(response: Any) -> None:
    assert response.status_code in (200, 400), (response.status_code, response.text)


@FUZZ
@given(body=st.one_of(json_values, objects, st.lists(objects, max_size=3)))
def test_postmark_bodies_never_cause_a_server_error(
    client: TestClient, keys: Keys, body: object
) -> None:
    auth = postmark_auth(keys.postmark_user, keys.postmark_password)
    assert_client_error_at_most(client.post("/webhooks/postmark", json=body, headers=auth))


@FUZZ
@given(body=st.one_of(st.lists(objects, max_size=3), json_values, st.binary(max_size=64)))
def test_sendgrid_bodies_never_cause_a_server_error(
    client: TestClient, keys: Keys, body: object
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = sendgrid_headers(keys.sendgrid_private, raw)
    assert_client_error_at_most(client.post("/webhooks/sendgrid", content=raw, headers=headers))


@FUZZ
@given(event_data=st.one_of(objects, json_values), extra=objects)
def test_mailgun_bodies_never_cause_a_server_error(
    client: TestClient,
    keys: Keys,
    event_data: object,
    extra: dict[str, Any],
) -> None:
    body = mailgun_body(keys.mailgun_key, {**extra, "event-data": event_data})
    assert_client_error_at_most(client.post("/webhooks/mailgun", content=body))


@FUZZ
@given(
    message=st.one_of(objects.map(json.dumps), st.text(max_size=40)), version=st.sampled_from("12")
)
def test_ses_notifications_never_cause_a_server_error(
    client: TestClient, keys: Keys, message: str, version: str
) -> None:
    envelope = sns_envelope(keys.sns_private, message, version=version)
    assert_client_error_at_most(client.post("/webhooks/ses", json=envelope))


@FUZZ
@given(envelope=objects)
def test_unsigned_sns_envelopes_are_refused_without_a_server_error(
    client: TestClient, envelope: dict[str, Any]
) -> None:
    response = client.post("/webhooks/ses", json=envelope)
    assert response.status_code in (400, 401, 403)


@FUZZ
@given(body=st.one_of(objects, json_values, st.binary(max_size=64)))
def test_resend_bodies_never_cause_a_server_error(
    client: TestClient, keys: Keys, body: object
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = resend_headers(keys.resend_secret, raw)
    assert_client_error_at_most(client.post("/webhooks/resend", content=raw, headers=headers))
