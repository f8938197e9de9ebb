"""Subscribers on the desk: search, consent and history, unsubscribe, forget, growth chart."""

from __future__ import annotations

from sqlalchemy import select

from pipeline.events.models import EventType, ProviderEvent
from pulse_core.database import transaction
from subscribers.history import change_status, history_of
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.service import add_subscriber
from subscribers.suppression import is_suppressed
from tests.admin.conftest import Desk, csrf_of


def _add(desk: Desk, email: str, status: SubscriberStatus = SubscriberStatus.ACTIVE) -> int:
    with transaction(desk.pulse.db.sessions) as session:
        person, _ = add_subscriber(
            session, email, consent_text="Signed up at the conference booth",
            consent_source="import", status=SubscriberStatus.PENDING,
        )  # fmt: skip
        if status is not SubscriberStatus.PENDING:
            change_status(session, person, status, cause="confirm")
        return person.id


def test_search_finds_by_part_of_the_address(desk: Desk) -> None:
    _add(desk, "alice@example.com")
    _add(desk, "bob@example.org")
    client = desk.editor()
    page = client.get("/admin/subscribers", params={"q": "EXAMPLE.COM"}).text
    assert "alice@example.com" in page and "bob@example.org" not in page
    wildcard = client.get("/admin/subscribers", params={"q": "%"}).text
    assert "Nobody matches" in wildcard  # LIKE wildcards are literal


def test_a_subscriber_page_shows_status_consent_and_history(desk: Desk) -> None:
    person = _add(desk, "alice@example.com")
    page = desk.editor().get(f"/admin/subscribers/{person}").text
    assert "Signed up at the conference booth" in page
    assert '<td id="subscriber-status">active</td>' in page
    assert "<td>confirm</td>" in page
    assert "Forget" not in page  # editors see, admins act
    assert desk.editor().get("/admin/subscribers/99999").status_code == 404


def test_an_admin_unsubscribes_on_request_with_history_and_suppression(desk: Desk) -> None:
    person = _add(desk, "alice@example.com")
    client = desk.admin()
    csrf = csrf_of(client, f"/admin/subscribers/{person}")
    response = client.post(f"/admin/subscribers/{person}/unsubscribe", data={"csrf_token": csrf})
    assert response.status_code == 200
    keys = desk.pulse.subscribers.hash_keys
    with transaction(desk.pulse.db.sessions) as session:
        row = session.get(Subscriber, person)
        assert row is not None and row.status is SubscriberStatus.UNSUBSCRIBED
        last = history_of(session, person)[-1]
        assert (last.cause, last.detail) == ("admin", "by boss@example.com")
        assert is_suppressed(session, "alice@example.com", keys)


def test_forget_erases_personal_data_but_keeps_the_suppression(desk: Desk) -> None:
    person = _add(desk, "alice@example.com")
    with transaction(desk.pulse.db.sessions) as session:
        session.add(
            ProviderEvent(provider="file", event_key="e1", type=EventType.BOUNCED,
                          recipient="alice@example.com", subscriber_id=person,
                          raw='{"email": "alice@example.com"}')
        )  # fmt: skip
    client = desk.admin()
    csrf = csrf_of(client, f"/admin/subscribers/{person}")
    unconfirmed = client.post(f"/admin/subscribers/{person}/forget", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 400
    response = client.post(
        f"/admin/subscribers/{person}/forget", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert response.status_code == 200
    with transaction(desk.pulse.db.sessions) as session:
        tombstone = session.get(Subscriber, person)
        assert tombstone is not None and tombstone.erased  # the id is never reused
        assert "alice" not in tombstone.email and tombstone.first_name is None
        assert history_of(session, person) == []
        event = session.scalar(select(ProviderEvent))
        assert event is not None and "alice" not in event.raw and event.recipient is None
        assert is_suppressed(session, "Alice@Example.com", desk.pulse.subscribers.hash_keys)


def test_counts_and_growth_chart_are_drawn_on_the_server(desk: Desk) -> None:
    _add(desk, "alice@example.com")
    _add(desk, "bob@example.com")
    _add(desk, "carol@example.com", SubscriberStatus.PENDING)
    page = desk.editor().get("/admin/subscribers").text
    assert '<td data-status="active">2</td>' in page
    assert '<td data-status="pending">1</td>' in page
    assert "<svg" in page and "Weekly subscriber growth" in page
    assert ": 3 signups</title>" in page
    assert ": 2 confirmations</title>" in page
