"""One code path from payload to list changes, shared by webhooks, backfill and the mailbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import NotFoundError, ValidationError
from pipeline.events.errors import MalformedEvent
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.policy import EventPolicy, IngestReport, apply_events
from pipeline.events.providers import SOURCES, EventSource
from pipeline.events.providers.base import WebhookCredentials


@dataclass(frozen=True)
class WebhookInbox:
    """What receiving webhooks needs, as the wiring builds it from the settings."""

    sessions: sessionmaker[Session]
    credentials: WebhookCredentials
    max_body_bytes: int
    # Called per webhook (the wiring caches it): building the policy reads the secret key.
    policy: Callable[[], EventPolicy]


def event_source(provider: str) -> EventSource:
    """The provider's module, or a clear error listing the ones there are."""
    source = SOURCES.get(provider)
    if source is None:
        names = ", ".join(sorted(SOURCES))
        raise NotFoundError(f"no provider {provider!r}; choose one of {names}")
    return source


def ingest_payload(
    session: Session, source: EventSource, payload: object, policy: EventPolicy
) -> IngestReport:
    """Normalise one verified webhook body and apply it."""
    return apply_events(session, source.parse(payload), policy)


def read_backfill(path: Path, source: EventSource) -> list[NormalisedEvent]:
    """Events saved from a provider: one webhook body, or a JSON array of them.

    Everything is parsed before anything is applied, so a bad item stops the import
    with its position and field, and nothing from the file is kept.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ValidationError("FILE", f"{path} does not exist") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ValidationError("FILE", f"{path} cannot be read ({err})") from err
    except json.JSONDecodeError as err:
        raise ValidationError("FILE", f"{path} line {err.lineno}: not JSON ({err.msg})") from err
    items = document if isinstance(document, list) else [document]
    events: list[NormalisedEvent] = []
    for position, item in enumerate(items, start=1):
        try:
            events.extend(source.parse(item))
        except MalformedEvent as err:
            raise ValidationError(f"item {position}: {err.field}", err.message) from err
    return events
