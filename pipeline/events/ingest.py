"""One code path from payload to list changes, shared by webhooks, backfill and the mailbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import NotFoundError, ValidationError
from pipeline.events.errors import MalformedEvent
from pipeline.events.models import ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.policy import EventPolicy, IngestReport, apply_event
from pipeline.events.providers import SOURCES, EventSource
from pipeline.events.providers.base import WebhookCredentials

_CHUNK = 500  # keys per IN (…) query: well under every backend's parameter limit


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


def apply_events(
    session: Session, events: Iterable[NormalisedEvent], policy: EventPolicy
) -> IngestReport:
    """Apply normalised events in order, in the caller's transaction."""
    pending = list(events)
    # Providers retry whole batches: find the already-stored ones with a few IN queries
    # rather than one lookup each. (apply_event still checks, for twins within the batch.)
    stored = _stored_keys(session, pending)
    report = IngestReport()
    for event in pending:
        if (event.provider, event.event_key) in stored:
            report.duplicates += 1
            continue
        report.add(apply_event(session, event, policy))
    return report


def _stored_keys(session: Session, events: list[NormalisedEvent]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for provider in {event.provider for event in events}:
        keys = sorted({e.event_key for e in events if e.provider == provider})
        for start in range(0, len(keys), _CHUNK):
            query = select(ProviderEvent.event_key).where(
                ProviderEvent.provider == provider,
                ProviderEvent.event_key.in_(keys[start : start + _CHUNK]),
            )
            found.update((provider, key) for key in session.scalars(query))
    return found


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
