"""What every provider's event module offers: verify a request, then normalise its events."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests
from pydantic import SecretStr
from sqlalchemy.orm import Session

from pipeline.events.normalised import NormalisedEvent

# Fetches a URL and returns its body; injected so tests never touch the network.
HttpGet = Callable[[str], bytes]


def fetch_url(url: str) -> bytes:
    """The real fetcher: a plain GET with a timeout; redirects are not followed (the caller
    vetted this URL's host, not wherever it might redirect); non-2xx is an error."""
    response = requests.get(url, timeout=10, allow_redirects=False)
    response.raise_for_status()
    return response.content


@dataclass(frozen=True)
class WebhookRequest:
    """The parts of an HTTP request verification looks at; header names lower-cased."""

    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class WebhookCredentials:
    """What verifying a provider's webhook needs from the configuration, and nothing more.

    A provider whose credentials are missing refuses its webhooks (see each module).
    """

    tolerance_seconds: int = 300
    postmark_user: str | None = None
    postmark_password: SecretStr | None = None
    sendgrid_public_key: str | None = None
    mailgun_signing_key: SecretStr | None = None
    ses_topic_arns: tuple[str, ...] = ()
    resend_secret: SecretStr | None = None


@dataclass
class VerifyContext:
    """What verification may need besides the request."""

    credentials: WebhookCredentials
    session: Session
    http_get: HttpGet = fetch_url
    clock: Callable[[], float] = time.time
    # Per-process caches shared between requests (SNS signing certificates).
    cache: dict[str, object] = field(default_factory=dict)


Authenticate = Callable[[WebhookRequest, VerifyContext], object]
Parse = Callable[[object], list[NormalisedEvent]]


@dataclass(frozen=True)
class EventSource:
    """One provider: ``authenticate`` verifies and decodes, ``parse`` normalises one item."""

    name: str
    authenticate: Authenticate
    parse: Parse
