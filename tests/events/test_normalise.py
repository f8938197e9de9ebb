"""Every provider's documented payloads land in the one event vocabulary."""

from __future__ import annotations

import json

import pytest

from pipeline.events.errors import MalformedEvent
from pipeline.events.models import BounceKind, EventType
from pipeline.events.providers import SOURCES
from tests.events.conftest import READER, fixture

HARD, SOFT = BounceKind.HARD, BounceKind.SOFT
PM = "883953f4-6105-42a2-a16a-77a8eac79483"
SG = "14c5d75ce93.dfd.64b469"
MG = "<20261124140211.1.2F4E6A8B0C2D4E6F@news.example.com>"
SES = "0102019383e4c3b1-6f8a9a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c-000000"
RS = "56761188-7520-42d8-8898-ff6fc54ce618"

CASES = [
    ("postmark", "hard_bounce", EventType.BOUNCED, HARD, PM),
    ("postmark", "soft_bounce", EventType.BOUNCED, SOFT, PM),
    ("postmark", "transient", EventType.DEFERRED, None, PM),
    ("postmark", "spam_complaint", EventType.COMPLAINED, None, PM),
    ("postmark", "delivery", EventType.DELIVERED, None, PM),
    ("postmark", "open", EventType.OPENED, None, PM),
    ("postmark", "click", EventType.CLICKED, None, PM),
    ("postmark", "subscription_change", EventType.UNSUBSCRIBED, None, PM),
    ("postmark", "unknown", EventType.UNKNOWN, None, PM),
    ("sendgrid", "processed", EventType.UNKNOWN, None, SG),
    ("sendgrid", "delivered", EventType.DELIVERED, None, SG),
    ("sendgrid", "deferred", EventType.DEFERRED, None, SG),
    ("sendgrid", "bounce", EventType.BOUNCED, HARD, SG),
    ("sendgrid", "blocked", EventType.BOUNCED, SOFT, SG),
    ("sendgrid", "dropped", EventType.BOUNCED, HARD, SG),
    ("sendgrid", "open", EventType.OPENED, None, SG),
    ("sendgrid", "click", EventType.CLICKED, None, SG),
    ("sendgrid", "spamreport", EventType.COMPLAINED, None, SG),
    ("sendgrid", "unsubscribe", EventType.UNSUBSCRIBED, None, SG),
    ("sendgrid", "group_unsubscribe", EventType.UNSUBSCRIBED, None, SG),
    ("mailgun", "delivered", EventType.DELIVERED, None, MG),
    ("mailgun", "failed_permanent", EventType.BOUNCED, HARD, MG),
    ("mailgun", "failed_temporary", EventType.DEFERRED, None, MG),
    ("mailgun", "complained", EventType.COMPLAINED, None, MG),
    ("mailgun", "unsubscribed", EventType.UNSUBSCRIBED, None, MG),
    ("mailgun", "opened", EventType.OPENED, None, MG),
    ("mailgun", "clicked", EventType.CLICKED, None, MG),
    ("mailgun", "rejected", EventType.REJECTED, None, MG),
    # Mailgun's documented "rejected" example names the recipient only in the message headers.
    ("mailgun", "rejected_no_recipient", EventType.REJECTED, None, MG),
    ("ses", "bounce_permanent", EventType.BOUNCED, HARD, SES),
    ("ses", "bounce_transient", EventType.BOUNCED, SOFT, SES),
    ("ses", "complaint", EventType.COMPLAINED, None, SES),
    ("ses", "delivery", EventType.DELIVERED, None, SES),
    ("ses", "delivery_delay", EventType.DEFERRED, None, SES),
    ("ses", "reject", EventType.REJECTED, None, SES),
    ("ses", "open", EventType.OPENED, None, SES),
    ("ses", "click", EventType.CLICKED, None, SES),
    ("ses", "send", EventType.UNKNOWN, None, SES),
    ("resend", "delivered", EventType.DELIVERED, None, RS),
    ("resend", "bounced", EventType.BOUNCED, HARD, RS),
    ("resend", "bounced_transient", EventType.BOUNCED, SOFT, RS),
    # The older shape: no bounce.type, the kind only in the message ("...sent a hard bounce...").
    ("resend", "bounced_legacy", EventType.BOUNCED, HARD, RS),
    ("resend", "complained", EventType.COMPLAINED, None, RS),
    ("resend", "delivery_delayed", EventType.DEFERRED, None, RS),
    ("resend", "opened", EventType.OPENED, None, RS),
    ("resend", "clicked", EventType.CLICKED, None, RS),
    ("resend", "failed", EventType.REJECTED, None, RS),
]


@pytest.mark.parametrize(("provider", "name", "event_type", "kind", "message_id"), CASES)
def test_documented_payloads_normalise_into_one_vocabulary(
    provider: str, name: str, event_type: EventType, kind: BounceKind | None, message_id: str
) -> None:
    [event] = SOURCES[provider].parse(fixture(provider, name))
    assert (event.type, event.bounce_kind) == (event_type, kind)
    assert event.recipient == READER
    assert event.provider_message_id == message_id
    assert event.provider == provider
    assert event.occurred_at.tzinfo is not None
    assert json.loads(event.raw)  # the provider's payload is kept


def test_every_provider_has_fixtures_for_bounces_and_complaints() -> None:
    covered = {(p, t) for p, _n, t, _k, _m in CASES}
    for provider in SOURCES:
        assert (provider, EventType.BOUNCED) in covered
        assert (provider, EventType.COMPLAINED) in covered


def test_an_unknown_resend_event_is_kept_as_unknown() -> None:
    [event] = SOURCES["resend"].parse(fixture("resend", "contact_created"))
    assert event.type is EventType.UNKNOWN


def test_a_sendgrid_batch_yields_one_event_per_item_with_distinct_keys() -> None:
    batch = fixture("sendgrid", "delivered") + fixture("sendgrid", "open")
    events = SOURCES["sendgrid"].parse(batch)
    assert [e.type for e in events] == [EventType.DELIVERED, EventType.OPENED]
    assert len({e.event_key for e in events}) == 2


def test_an_ses_notification_for_several_recipients_yields_one_event_each() -> None:
    payload = fixture("ses", "bounce_permanent")
    first = payload["bounce"]["bouncedRecipients"][0]
    payload["bounce"]["bouncedRecipients"].append(dict(first, emailAddress="other@example.com"))
    events = SOURCES["ses"].parse(payload)
    assert [e.recipient for e in events] == [READER, "other@example.com"]
    assert events[0].event_key != events[1].event_key


def test_postmark_delivery_without_an_id_is_keyed_by_its_content() -> None:
    first = SOURCES["postmark"].parse(fixture("postmark", "delivery"))[0]
    again = SOURCES["postmark"].parse(fixture("postmark", "delivery"))[0]
    other = fixture("postmark", "delivery") | {"DeliveredAt": "2026-11-25T00:00:00Z"}
    assert first.event_key == again.event_key
    assert SOURCES["postmark"].parse(other)[0].event_key != first.event_key


@pytest.mark.parametrize(
    ("provider", "payload", "field"),
    [
        ("postmark", ["not", "an", "object"], "record"),
        (
            "postmark",
            {"RecordType": "Bounce", "Type": "HardBounce", "BouncedAt": "yesterday"},
            "BouncedAt",
        ),
        ("sendgrid", [{"event": "bounce", "email": 5}], "email"),
        ("sendgrid", [{"event": "open", "timestamp": "soon"}], "timestamp"),
        ("mailgun", {"event-data": "nope"}, "event-data"),
        ("ses", {"Type": "Notification", "Message": "{not json"}, "Message"),
        (
            "ses",
            {"notificationType": "Bounce", "bounce": {"bouncedRecipients": "x"}},
            "bouncedRecipients",
        ),
        ("resend", {"type": "email.bounced", "data": {"to": [1, 2]}}, "data.to"),
    ],
)
def test_payloads_in_the_wrong_shape_name_the_field(
    provider: str, payload: object, field: str
) -> None:
    with pytest.raises(MalformedEvent) as caught:
        SOURCES[provider].parse(payload)
    assert caught.value.field == field


def test_an_ses_rendering_failure_is_a_rejection_with_the_reason() -> None:
    # Shape from the SES developer guide, "Contents of event data that Amazon SES publishes
    # to Amazon SNS" (eventType "Rendering Failure", a ``failure`` object).
    payload = fixture("ses", "bounce_permanent")
    payload.pop("bounce")
    payload.pop("notificationType", None)
    payload["eventType"] = "Rendering Failure"
    payload["failure"] = {
        "errorMessage": "Attribute 'name' is not present in the rendering data.",
        "templateName": "inline",
    }
    events = SOURCES["ses"].parse(payload)
    assert [e.type for e in events] == [EventType.REJECTED] * len(events) and events
    assert "not present in the rendering data" in (events[0].detail or "")
