"""Linking an event back to the delivery row and subscriber it is about.

Message ids come first. An event can arrive before its delivery row records the provider's
message id: the provider answers the send call, fires a webhook at once, and our
``record_results`` commit may land a moment later (or never, after a crash). Such an event
matches no row by id, so it falls back to the recipient's newest delivery that has no
message id yet — the one in flight. For authenticated webhooks the policy never depends on
this link: it acts on the subscriber found through the recipient address, so a bounce is
honoured either way. Mailbox reports (``needs_proof``) are different: anyone can send them,
so they act only on a *proven* match — the delivery our signed VERP token names, or a
delivery recorded under the report's Message-ID for that very recipient.

Every lookup is made for a whole batch of events at once — a few IN (…) queries on indexed
columns (delivery id, provider message id, email key, subscriber id), never one per event —
so the cost per event stays flat however many deliveries the table holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery
from pipeline.events.normalised import NormalisedEvent
from pulse_core.database import one_of
from subscribers.addresses import email_key
from subscribers.models import Subscriber

# A provider may share one message id across a batch (SendGrid's X-Message-Id); this
# bounds how many rows we compare recipients against.
_SHARED_ID_LIMIT = 1000
# Values per IN (…). Small on purpose: PostgreSQL's planner (random_page_cost 4) weighs 500
# index probes above one scan of a 100,000-row table and scans it (28 ms); 200 probes it
# reads as cheaper for any table past ~80,000 rows (1 ms), so the cost per event stops
# growing with the table. See the plan tests in tests/events/test_intake_plans.py.
IN_CHUNK = 200
_CHUNK = IN_CHUNK


@dataclass(frozen=True)
class Match:
    """What an event was linked to; either part may be missing."""

    delivery_id: int | None
    subscriber_id: int | None
    # The subscriber's address, when there is one.
    email: str | None = None
    # The event names a message we sent to this subscriber (VERP token, or Message-ID and
    # recipient), not just an address that happens to be on the list.
    proven: bool = False


NO_MATCH = Match(None, None)


@dataclass(frozen=True)
class _Row:
    delivery_id: int
    subscriber_id: int
    email: str
    email_key: str


def message_id_forms(message_id: str) -> list[str]:
    """The id as given, bare and bracketed: providers disagree about ``<…>``."""
    bare = message_id.strip().strip("<>")
    return list(dict.fromkeys([message_id, bare, f"<{bare}>"]))


def match_events(session: Session, events: Sequence[NormalisedEvent]) -> list[Match]:
    """The delivery and subscriber each event is about, as far as they can be known."""
    by_token = _deliveries_by_id(session, {e.delivery_id for e in events if e.delivery_id})
    by_form = _deliveries_by_message_id(session, events)
    matches: list[Match | None] = []
    for event in events:
        matches.append(_proven_match(event, by_token, by_form))
    # Not proven by id: the subscriber the event names, and their newest delivery still
    # waiting for its id (or their newest delivery, when the event carries no id).
    open_events = [e for e, m in zip(events, matches, strict=True) if m is None]
    people = _subscribers(session, open_events)
    newest = _newest_deliveries(session, open_events, people)
    result: list[Match] = []
    for event, match in zip(events, matches, strict=True):
        if match is None:
            found = people.get(_person_key(event))
            if found is None:
                match = NO_MATCH
            else:
                waiting = event.provider_message_id is not None
                match = Match(newest.get((found[0], waiting)), found[0], found[1])
        result.append(match)
    return result


def _proven_match(
    event: NormalisedEvent, by_token: dict[int, _Row], by_form: dict[str, list[_Row]]
) -> Match | None:
    wanted = email_key(event.recipient) if event.recipient else None
    if event.delivery_id is not None and event.delivery_id in by_token:
        row = by_token[event.delivery_id]
        return Match(row.delivery_id, row.subscriber_id, row.email, proven=True)
    if event.provider_message_id:
        candidates = {
            row.delivery_id: row
            for form in message_id_forms(event.provider_message_id)
            for row in by_form.get(form, ())
        }
        newest_first = sorted(candidates.values(), key=lambda row: -row.delivery_id)
        for row in newest_first[:_SHARED_ID_LIMIT]:
            if wanted is None or row.email_key == wanted:
                return Match(row.delivery_id, row.subscriber_id, row.email, wanted is not None)
    return None


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _delivery_rows(session: Session, condition: Any) -> Iterable[tuple[_Row, str | None]]:
    query = (
        select(
            Delivery.id,
            Delivery.subscriber_id,
            Subscriber.email,
            Subscriber.email_key,
            Delivery.provider_message_id,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(condition)
    )
    for delivery_id, subscriber_id, email, key, message_id in session.execute(query):
        yield _Row(delivery_id, subscriber_id, email, key), message_id


def _deliveries_by_id(session: Session, ids: set[int | None]) -> dict[int, _Row]:
    found: dict[int, _Row] = {}
    for chunk in _chunks(i for i in ids if i is not None):
        for row, _ in _delivery_rows(session, one_of(session, Delivery.id, chunk)):
            found[row.delivery_id] = row
    return found


def _deliveries_by_message_id(
    session: Session, events: Sequence[NormalisedEvent]
) -> dict[str, list[_Row]]:
    forms = {
        form
        for event in events
        if event.provider_message_id
        for form in message_id_forms(event.provider_message_id)
    }
    found: dict[str, list[_Row]] = defaultdict(list)
    for chunk in _chunks(forms):
        for row, message_id in _delivery_rows(
            session, one_of(session, Delivery.provider_message_id, chunk)
        ):
            found[message_id or ""].append(row)
    return found


def _person_key(event: NormalisedEvent) -> tuple[str, object] | None:
    """How the event names a person: a proven subscriber id, else the recipient's key."""
    if event.subscriber_id is not None:
        return ("id", event.subscriber_id)
    if event.recipient:
        return ("email", email_key(event.recipient))
    return None


def _subscribers(
    session: Session, events: Sequence[NormalisedEvent]
) -> dict[tuple[str, object] | None, tuple[int, str]]:
    keys = {_person_key(e) for e in events} - {None}
    ids = {value for kind, value in keys if kind == "id"}  # type: ignore[misc]
    emails = {value for kind, value in keys if kind == "email"}  # type: ignore[misc]
    found: dict[tuple[str, object] | None, tuple[int, str]] = {}
    columns = (Subscriber.id, Subscriber.email, Subscriber.email_key)
    for chunk in _chunks(ids):
        for sid, email, _ in session.execute(
            select(*columns).where(one_of(session, Subscriber.id, chunk))
        ):
            found[("id", sid)] = (sid, email)
    for chunk in _chunks(emails):
        query = select(*columns).where(one_of(session, Subscriber.email_key, chunk))
        for sid, email, key in session.execute(query):
            found[("email", key)] = (sid, email)
    return found


def _newest_deliveries(
    session: Session,
    events: Sequence[NormalisedEvent],
    people: dict[tuple[str, object] | None, tuple[int, str]],
) -> dict[tuple[int, bool], int]:
    """(subscriber id, waiting for its id?) → the newest such delivery's id."""
    wanted: dict[bool, set[int]] = {True: set(), False: set()}
    for event in events:
        found = people.get(_person_key(event))
        if found is not None:
            wanted[event.provider_message_id is not None].add(found[0])
    newest: dict[tuple[int, bool], int] = {}
    for waiting, ids in wanted.items():
        for chunk in _chunks(ids):
            query = (
                select(Delivery.subscriber_id, func.max(Delivery.id))
                .where(one_of(session, Delivery.subscriber_id, chunk))
                .group_by(Delivery.subscriber_id)
            )
            if waiting:
                query = query.where(Delivery.provider_message_id.is_(None))
            for subscriber_id, delivery_id in session.execute(query):
                newest[(subscriber_id, waiting)] = delivery_id
    return newest
