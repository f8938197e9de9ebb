"""Each provider's webhook verifies the request before it reads it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select

from pipeline.events.models import ProviderEvent
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from tests.conftest import MakePulse
from tests.events.conftest import (
    CERT_URL,
    SUBSCRIBE_URL,
    FakeFetcher,
    Keys,
    fixture,
    mailgun_body,
    postmark_auth,
    resend_headers,
    rsa_certificate,
    sendgrid_headers,
    sns_envelope,
)
from tests.events.webhook_requests import (
    PROVIDERS,
    WITH_TIMESTAMPS,
    ProviderWebhook,
    WebhookRequest,
)


def stored(pulse: Pulse) -> int:
    with pulse.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ProviderEvent)) or 0)


# --- Postmark --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer abc"}, 401),
        ({"Authorization": "Basic !!!"}, 401),
        (postmark_auth("postmark-hook", "wrong-password"), 403),
        (postmark_auth("someone-else", "wrong-password"), 403),
    ],
)
def test_postmark_refuses_missing_or_wrong_credentials(
    client: TestClient, pulse_events: Pulse, headers: dict[str, str], status: int
) -> None:
    response = client.post(
        "/webhooks/postmark", json=fixture("postmark", "hard_bounce"), headers=headers
    )
    assert response.status_code == status
    assert stored(pulse_events) == 0


# --- SendGrid --------------------------------------------------------------------------


def test_sendgrid_accepts_a_signed_batch(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    body = json.dumps(fixture("sendgrid", "bounce") + fixture("sendgrid", "open")).encode()
    response = client.post(
        "/webhooks/sendgrid", content=body, headers=sendgrid_headers(keys.sendgrid_private, body)
    )
    assert response.status_code == 200, response.text
    assert stored(pulse_events) == 2


def test_a_replayed_sendgrid_request_changes_nothing(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    body = json.dumps(fixture("sendgrid", "bounce")).encode()
    headers = sendgrid_headers(keys.sendgrid_private, body)
    assert client.post("/webhooks/sendgrid", content=body, headers=headers).json()["stored"] == 1
    again = client.post("/webhooks/sendgrid", content=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["duplicates"] == 1 and again.json()["stored"] == 0
    assert stored(pulse_events) == 1


# --- Mailgun ---------------------------------------------------------------------------


def test_mailgun_refuses_a_replayed_token(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    body = mailgun_body(keys.mailgun_key, fixture("mailgun", "opened"), token="a" * 50)
    assert client.post("/webhooks/mailgun", content=body).status_code == 200
    # Same token, even on a different (validly signed) event: refused.
    other = mailgun_body(keys.mailgun_key, fixture("mailgun", "complained"), token="a" * 50)
    assert client.post("/webhooks/mailgun", content=other).status_code == 403
    assert stored(pulse_events) == 1


def test_mailgun_refuses_a_timestamp_older_than_five_minutes(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    old = int(time.time()) - 301
    body = mailgun_body(keys.mailgun_key, fixture("mailgun", "complained"), timestamp=old)
    assert client.post("/webhooks/mailgun", content=body).status_code == 403
    assert stored(pulse_events) == 0


# --- SES through SNS ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_accepts_both_sns_signature_versions(
    client: TestClient, keys: Keys, pulse_events: Pulse, version: str
) -> None:
    envelope = sns_envelope(
        keys.sns_private, json.dumps(fixture("ses", "complaint")), version=version
    )
    response = client.post("/webhooks/ses", json=envelope)
    assert response.status_code == 200, response.text
    assert stored(pulse_events) == 1


def test_ses_verifies_a_notification_without_a_subject(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    envelope = sns_envelope(keys.sns_private, json.dumps(fixture("ses", "delivery")), subject=None)
    assert client.post("/webhooks/ses", json=envelope).status_code == 200


def test_ses_fetches_the_signing_certificate_once(
    client: TestClient, keys: Keys, fetcher: FakeFetcher
) -> None:
    for name in ("delivery", "open"):
        envelope = sns_envelope(keys.sns_private, json.dumps(fixture("ses", name)))
        assert client.post("/webhooks/ses", json=envelope).status_code == 200
    assert fetcher.fetched == [CERT_URL]


@pytest.mark.parametrize(
    "cert_url",
    [
        "http://sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/cert.pem",
        "https://sns.us-east-1.amazonaws.com/?Action=GetCertificate",
    ],
)
def test_ses_never_fetches_a_certificate_from_elsewhere(
    client: TestClient, keys: Keys, fetcher: FakeFetcher, cert_url: str
) -> None:
    fetcher.documents[cert_url] = rsa_certificate(keys.sns_private)
    envelope = sns_envelope(
        keys.sns_private, json.dumps(fixture("ses", "complaint")), cert_url=cert_url
    )
    assert client.post("/webhooks/ses", json=envelope).status_code == 403
    assert fetcher.fetched == []


def test_ses_refuses_an_unexpected_topic(
    client: TestClient, keys: Keys, fetcher: FakeFetcher, pulse_events: Pulse
) -> None:
    envelope = sns_envelope(
        keys.sns_private, json.dumps(fixture("ses", "complaint")), topic="arn:aws:sns:us-east-1:9:x"
    )
    assert client.post("/webhooks/ses", json=envelope).status_code == 403
    assert fetcher.fetched == [] and stored(pulse_events) == 0


def test_ses_confirms_a_subscription_to_an_expected_topic(
    client: TestClient, keys: Keys, fetcher: FakeFetcher
) -> None:
    envelope = sns_envelope(
        keys.sns_private, "You have chosen to subscribe", message_type="SubscriptionConfirmation"
    )
    response = client.post("/webhooks/ses", json=envelope)
    assert response.status_code == 200, response.text
    assert fetcher.fetched == [CERT_URL, SUBSCRIBE_URL]


def test_ses_does_not_confirm_a_subscription_to_another_topic(
    client: TestClient, keys: Keys, fetcher: FakeFetcher
) -> None:
    envelope = sns_envelope(
        keys.sns_private,
        "You have chosen to subscribe",
        message_type="SubscriptionConfirmation",
        topic="arn:aws:sns:us-east-1:123456789012:someone-elses",
    )
    assert client.post("/webhooks/ses", json=envelope).status_code == 403
    assert SUBSCRIBE_URL not in fetcher.fetched


def test_ses_refuses_an_expired_signing_certificate(
    client: TestClient, keys: Keys, fetcher: FakeFetcher
) -> None:
    fetcher.documents[CERT_URL] = rsa_certificate(keys.sns_private, days=-1)
    envelope = sns_envelope(keys.sns_private, json.dumps(fixture("ses", "complaint")))
    assert client.post("/webhooks/ses", json=envelope).status_code == 403


# --- Resend (Svix) -----------------------------------------------------------------------


def test_resend_refuses_a_signature_moved_to_another_message_id(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    body = json.dumps(fixture("resend", "complained")).encode()
    headers = resend_headers(keys.resend_secret, body) | {"svix-id": "msg_other"}
    assert client.post("/webhooks/resend", content=body, headers=headers).status_code == 403
    assert stored(pulse_events) == 0


# --- every provider -----------------------------------------------------------------------


def _post(client: TestClient, provider: ProviderWebhook, request: WebhookRequest) -> Response:
    return client.post(
        f"/webhooks/{provider.name}", content=request.content, headers=request.headers
    )


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_every_provider_stores_a_request_signed_as_it_documents(
    client: TestClient, keys: Keys, pulse_events: Pulse, provider: ProviderWebhook
) -> None:
    response = _post(client, provider, provider.signed(keys))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1
    assert stored(pulse_events) == 1


REFUSALS: list[tuple[str, Callable[[ProviderWebhook, Keys], WebhookRequest], int]] = [
    ("tampered", lambda provider, keys: provider.tampered(keys), 403),
    ("signed by another key", lambda provider, _keys: provider.by_another_key(), 403),
    ("without credentials", lambda provider, keys: provider.unsigned(keys), 401),
]


@pytest.mark.parametrize(("spoilt", "request_of", "status"), REFUSALS, ids=[r[0] for r in REFUSALS])
@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_every_provider_refuses_a_request_it_cannot_verify(
    client: TestClient,
    keys: Keys,
    pulse_events: Pulse,
    provider: ProviderWebhook,
    spoilt: str,
    request_of: Callable[[ProviderWebhook, Keys], WebhookRequest],
    status: int,
) -> None:
    response = _post(client, provider, request_of(provider, keys))
    assert response.status_code == status, f"{provider.name}, {spoilt}: {response.text}"
    assert stored(pulse_events) == 0


@pytest.mark.parametrize("provider", WITH_TIMESTAMPS, ids=lambda p: p.name)
def test_every_dated_provider_refuses_a_request_an_hour_old(
    client: TestClient, keys: Keys, pulse_events: Pulse, provider: ProviderWebhook
) -> None:
    assert _post(client, provider, provider.stale(keys)).status_code == 403
    assert stored(pulse_events) == 0


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_a_provider_that_is_not_configured_refuses_even_a_signed_request(
    make_pulse: MakePulse, keys: Keys, provider: ProviderWebhook
) -> None:
    client = TestClient(create_app(make_pulse()))
    response = _post(client, provider, provider.signed(keys))
    assert response.status_code == 403, response.text


def test_an_unknown_provider_is_not_found(client: TestClient) -> None:
    assert client.post("/webhooks/mandrill", json={}).status_code == 404


def test_an_authentic_but_malformed_body_is_a_400(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    auth = postmark_auth(keys.postmark_user, keys.postmark_password)
    response = client.post("/webhooks/postmark", content=b"{not json", headers=auth)
    assert response.status_code == 400
    bad_time = fixture("postmark", "hard_bounce") | {"BouncedAt": "last tuesday"}
    response = client.post("/webhooks/postmark", json=bad_time, headers=auth)
    assert response.status_code == 400 and "BouncedAt" in response.json()["error"]
    assert stored(pulse_events) == 0


def test_an_unknown_event_type_is_stored_and_ignored(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    auth = postmark_auth(keys.postmark_user, keys.postmark_password)
    response = client.post("/webhooks/postmark", json=fixture("postmark", "unknown"), headers=auth)
    assert response.status_code == 200
    assert response.json()["types"] == {"unknown": 1} and response.json()["changes"] == {}


def test_the_app_mounts_the_webhooks(pulse_events: Pulse, keys: Keys) -> None:
    client = TestClient(create_app(pulse_events))
    auth = postmark_auth(keys.postmark_user, keys.postmark_password)
    response = client.post("/webhooks/postmark", json=fixture("postmark", "delivery"), headers=auth)
    assert response.status_code == 200


def test_failures_are_logged_without_secrets(
    client: TestClient, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    client.post("/webhooks/postmark", json={}, headers=postmark_auth(keys.postmark_user, "guess"))
    body = mailgun_body("0" * 32, fixture("mailgun", "opened"))
    client.post("/webhooks/mailgun", content=body)
    text = caplog.text
    assert "refused" in text
    for secret in (keys.postmark_password, "guess", keys.mailgun_key, keys.resend_secret):
        assert secret not in text


def test_the_same_event_twice_in_one_batch_is_stored_once(
    client: TestClient, keys: Keys, pulse_events: Pulse
) -> None:
    body = json.dumps(fixture("sendgrid", "bounce") * 2).encode()
    response = client.post(
        "/webhooks/sendgrid", content=body, headers=sendgrid_headers(keys.sendgrid_private, body)
    )
    assert response.status_code == 200
    assert (response.json()["stored"], response.json()["duplicates"]) == (1, 1)
    assert stored(pulse_events) == 1
