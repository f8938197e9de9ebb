"""Fixtures for provider events: keys generated per test, signed requests, a seeded send."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pipeline.delivery.models import Delivery
from pipeline.events.webhooks import webhook_router
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from subscribers.models import Subscriber
from tests.conftest import MakePulse
from tests.harness.seed import build_seeded_week

FIXTURES = Path(__file__).parent / "fixtures"
WEEK = "2026-W48"
READER = "reader000001@example.com"
TOPIC = "arn:aws:sns:us-east-1:123456789012:pulse-ses-events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000.pem"
SUBSCRIBE_URL = (
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
    + TOPIC
    + "&Token=2336412f37"
)


def fixture(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


def rsa_certificate(key: rsa.RSAPrivateKey, *, days: int = 30) -> bytes:
    """A self-signed certificate, standing in for the one SNS publishes."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class FakeFetcher:
    """The injected HTTP GET: serves the signing certificate, records every URL."""

    documents: dict[str, bytes]
    fetched: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.documents:
            raise ConnectionError(f"no route to {url}")
        return self.documents[url]


@dataclass
class Keys:
    """Every secret the providers use, generated fresh for the test."""

    postmark_user: str
    postmark_password: str
    sendgrid_private: ec.EllipticCurvePrivateKey
    mailgun_key: str
    resend_secret: str
    sns_private: rsa.RSAPrivateKey

    @property
    def sendgrid_public_b64(self) -> str:
        der = self.sendgrid_private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def settings(self) -> dict[str, object]:
        return {
            "postmark_webhook_user": self.postmark_user,
            "postmark_webhook_password": self.postmark_password,
            "sendgrid_webhook_public_key": self.sendgrid_public_b64,
            "mailgun_webhook_signing_key": self.mailgun_key,
            "ses_topic_arns": f"arn:aws:sns:eu-west-1:123456789012:other,{TOPIC}",
            "resend_webhook_secret": self.resend_secret,
        }


def new_keys() -> Keys:
    return Keys(
        postmark_user="postmark-hook",
        postmark_password=secrets.token_urlsafe(16),
        sendgrid_private=ec.generate_private_key(ec.SECP256R1()),
        mailgun_key=secrets.token_hex(16),
        resend_secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        sns_private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture(scope="session")
def keys() -> Keys:
    # RSA generation is the slow part; one set per session, still made inside the tests.
    return new_keys()


@pytest.fixture
def pulse_events(make_pulse: MakePulse, keys: Keys) -> Pulse:
    """Wiring with every provider's webhook configured."""
    return make_pulse(**keys.settings())


@pytest.fixture
def fetcher(keys: Keys) -> FakeFetcher:
    return FakeFetcher(
        {
            CERT_URL: rsa_certificate(keys.sns_private),
            SUBSCRIBE_URL: b"<ConfirmSubscriptionResponse/>",
        }
    )


@pytest.fixture
def client(pulse_events: Pulse, fetcher: FakeFetcher) -> TestClient:
    app = FastAPI()
    app.include_router(webhook_router(pulse_events.webhooks, http_get=fetcher))
    return TestClient(app)


# --- signing, as each provider documents it ---------------------------------------------


def postmark_auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def sendgrid_headers(
    private: ec.EllipticCurvePrivateKey, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        "Content-Type": "application/json",
    }


def mailgun_body(
    key: str, payload: dict[str, Any], *, timestamp: int | None = None, token: str | None = None
) -> bytes:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    signed = dict(payload, signature={"timestamp": stamp, "token": token, "signature": signature})
    return json.dumps(signed).encode()


def resend_headers(
    secret: str, body: bytes, *, timestamp: int | None = None, message_id: str | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "svix-id": message_id,
        "svix-timestamp": stamp,
        "svix-signature": "v1,bm90IHRoaXMgb25l v1," + base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


def sns_envelope(
    private: rsa.RSAPrivateKey,
    message: str,
    *,
    message_type: str = "Notification",
    version: str = "1",
    topic: str = TOPIC,
    cert_url: str = CERT_URL,
    subject: str | None = "Amazon SES Email Event Notification",
) -> dict[str, str]:
    """An SNS message signed the way SNS documents it (name/value lines, SHA1 or SHA256)."""
    envelope = {
        "Type": message_type,
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": message,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SignatureVersion": version,
        "SigningCertURL": cert_url,
    }
    if message_type == "Notification":
        if subject is not None:
            envelope["Subject"] = subject
        order = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        envelope["UnsubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
    else:
        envelope["Token"] = "2336412f37"
        envelope["SubscribeURL"] = SUBSCRIBE_URL
        order = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{name}\n{envelope[name]}\n" for name in order if name in envelope)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS v1
    signature = private.sign(text.encode(), padding.PKCS1v15(), algorithm)
    envelope["Signature"] = base64.b64encode(signature).decode()
    return envelope


# --- a week sent through the file provider ------------------------------------------------


def seed_and_send(pulse: Pulse, readers: int = 3) -> None:
    build_seeded_week(pulse, readers, WEEK)
    weekly.send_week(pulse, WEEK)


def set_message_id(pulse: Pulse, email: str, message_id: str | None) -> int:
    """Record ``message_id`` on the subscriber's delivery, as a provider adapter would."""
    with transaction(pulse.db.sessions) as session:
        subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == email))
        delivery_id = session.scalar(
            select(Delivery.id).where(Delivery.subscriber_id == subscriber_id)
        )
        assert delivery_id is not None
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(provider_message_id=message_id)
        )
        return delivery_id
