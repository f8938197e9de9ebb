"""Contract suite: every request body each adapter builds matches the provider's description."""

from __future__ import annotations

import json
from email.headerregistry import Address

import pytest

from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.providers.mailgun import MailgunProvider
from pipeline.delivery.providers.postmark import PostmarkProvider
from pipeline.delivery.providers.resend import ResendProvider
from pipeline.delivery.providers.sendgrid import SendGridProvider
from pipeline.delivery.providers.ses import SesProvider
from pipeline.issues.merge import MergeTemplate
from tests import contracts

HTML = (
    "<html><body><p>Hi %%pulse:first_name%%</p>"
    '<a href="%%pulse:unsubscribe_url%%">unsubscribe</a>'
    '<a href="%%pulse:preferences_url%%">preferences</a></body></html>'
)
TEXT = "Hi %%pulse:first_name%%\nUnsubscribe: %%pulse:unsubscribe_url%%\n"


def make_batch(count: int) -> Batch:
    names = ["Zoë", 'Ann "A" <x>', None, "Łukasz & Co"]
    recipients = [
        Recipient(
            delivery_id=i,
            email=f"reader{i}@example.com",
            name=names[i % len(names)],
            message_id=f"<pulse.2026-W48.{i}@example.com>",
            values={
                "unsubscribe_url": f"https://news.example.com/u/tok{i}",
                "preferences_url": f"https://news.example.com/preferences/tok{i}",
                "first_name": names[i % len(names)] or "there",
            },
            headers={"List-Unsubscribe": f"<https://news.example.com/u/tok{i}>"},
        )
        for i in range(1, count + 1)
    ]
    return Batch(
        key="2026-W48",
        subject="AISE Pulse Brief #12: who's hiring",
        sender=Address("AISE Pulse Brief", "pulse", "example.com"),
        html=MergeTemplate.parse(HTML),
        text=MergeTemplate.parse(TEXT),
        recipients=recipients,
        headers={"List-Id": "AISE Pulse Brief <aise-pulse-brief.example.com>"},
    )


def args() -> dict[str, object]:
    return {"api_url": "http://127.0.0.1:9", "timeout": 1.0, "pool_size": 1}


def test_postmark_batch_matches_its_schema() -> None:
    provider = PostmarkProvider("token", stream="broadcast", **args())  # type: ignore[arg-type]
    batch = make_batch(500)
    body = json.loads(provider.body(batch))
    assert contracts.postmark_batch(body) == []
    for message, recipient in zip(body, batch.recipients, strict=True):
        assert message["HtmlBody"] == batch.html_for(recipient)
        assert message["TextBody"] == batch.text_for(recipient)
    assert {message["MessageStream"] for message in body} == {"broadcast"}


def test_sendgrid_body_matches_its_openapi_description() -> None:
    provider = SendGridProvider("key", **args())  # type: ignore[arg-type]
    payload = provider.payload(make_batch(1000))
    assert contracts.sendgrid_mail_send(payload) == []
    html = next(part["value"] for part in payload["content"] if part["type"] == "text/html")
    assert html.count("<html>") == 1  # the body travels once for 1,000 recipients


def test_mailgun_form_matches_its_openapi_description() -> None:
    provider = MailgunProvider("key", domain="mg.example.com", **args())  # type: ignore[arg-type]
    fields = provider.form(make_batch(1000))
    assert contracts.mailgun_messages(fields) == []
    assert sum(1 for name, _ in fields if name == "html") == 1


def test_resend_batch_matches_its_openapi_description() -> None:
    provider = ResendProvider("key", **args())  # type: ignore[arg-type]
    batch = make_batch(100)
    body = [json.loads(provider.message(batch, r)) for r in batch.recipients]
    assert body[0]["html"] == batch.html_for(batch.recipients[0])
    assert contracts.resend_batch(body) == []


def test_ses_request_matches_botocores_service_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    provider = SesProvider(region="us-east-1", api_url=None, timeout=1.0, pool_size=1)
    try:
        assert contracts.ses_send_bulk_email(provider.request(make_batch(50))) == []
    finally:
        provider.close()


def test_the_validators_catch_broken_bodies() -> None:
    """The contract checks can fail: each rejects a body its provider would refuse."""
    assert contracts.postmark_batch([{"To": "a@example.com", "Nonsense": 1}])
    assert contracts.postmark_batch([{"To": "a@example.com"}] * 501)
    assert contracts.sendgrid_mail_send({"personalizations": [{"to": []}] * 1001})
    assert contracts.sendgrid_mail_send({"from": {"email": "a@example.com"}})
    assert contracts.resend_batch([{"from": "a@example.com", "to": ["b@example.com"]}])
    assert contracts.resend_batch([{"from": "a", "to": "b", "subject": "s"}] * 101)
    assert contracts.mailgun_messages([("from", "a@example.com"), ("subject", "s")])
    assert contracts.mailgun_messages([("to", "b"), ("from", "a"), ("subject", "s"), ("x", "y")])
    assert contracts.ses_send_bulk_email({"FromEmailAddress": "a@example.com"})


def test_body_once_per_call_keeps_uploads_small_per_recipient() -> None:
    """SendGrid and Mailgun upload far less per recipient than one body per message."""
    batch = make_batch(1000)
    sendgrid = len(json.dumps(SendGridProvider("k", **args()).payload(batch)))  # type: ignore[arg-type]
    mailgun = sum(
        len(n) + len(v)
        for n, v in MailgunProvider("k", domain="d", **args()).form(batch)  # type: ignore[arg-type]
    )
    postmark = len(PostmarkProvider("t", stream="b", **args()).body(batch))  # type: ignore[arg-type]
    assert sendgrid < postmark and mailgun < postmark


def test_prepared_request_streams_exactly_the_body_and_can_be_sent_twice() -> None:
    provider = PostmarkProvider("t", stream="broadcast", **args())  # type: ignore[arg-type]
    batch = make_batch(300)
    (call,) = provider.prepare(batch).payload  # type: ignore[misc]
    body = call.request.body
    first, second = b"".join(body), b"".join(body)
    assert first == second == provider.body(batch)
    assert len(body) == len(first)


def test_validators_refuse_what_the_providers_refuse() -> None:
    good = json.loads(PostmarkProvider("t", stream="b", **args()).body(make_batch(2)))  # type: ignore[arg-type]
    assert contracts.postmark_batch(good) == []
    missing_to = [dict(good[0]), good[1]]
    del missing_to[0]["To"]
    assert any("To" in p for p in contracts.postmark_batch(missing_to))
    bad_address = [dict(good[0], To="reader1@@example.com"), good[1]]
    assert any("not a valid address" in p for p in contracts.postmark_batch(bad_address))
    injected = [dict(good[0], Headers=[{"Name": "X-A", "Value": "a\r\nBcc: x@y.z"}]), good[1]]
    assert any("control character" in p for p in contracts.postmark_batch(injected))
    no_body = [{k: v for k, v in good[0].items() if k not in ("HtmlBody", "TextBody")}]
    assert any("HtmlBody or TextBody" in p for p in contracts.postmark_batch(no_body))
    assert any("50,000,000" in p for p in contracts.postmark_batch(good, size=50_000_001))

    sendgrid = SendGridProvider("k", **args()).payload(make_batch(2))  # type: ignore[arg-type]
    assert contracts.sendgrid_mail_send(sendgrid) == []
    reserved = json.loads(json.dumps(sendgrid))
    reserved["personalizations"][0]["headers"]["Subject"] = "spoofed"
    assert any("reserved" in p for p in contracts.sendgrid_mail_send(reserved))
    reserved["personalizations"][0]["to"][0]["email"] = "not-an-address"
    assert any("personalizations.0.to.0.email" in p for p in contracts.sendgrid_mail_send(reserved))

    fields = MailgunProvider("k", domain="mg.example.com", **args()).form(make_batch(2))  # type: ignore[arg-type]
    assert contracts.mailgun_messages(fields) == []
    stray = [*fields[:-1], ("recipient-variables", json.dumps({"someone@else.com": {}}))]
    assert any("not one of the to addresses" in p for p in contracts.mailgun_messages(stray))
    assert any("25,000,000" in p for p in contracts.mailgun_messages(fields, size=25_000_001))

    ses = SesProvider.__new__(SesProvider)
    ses.configuration_set = "pulse"
    params = ses.request(make_batch(2))
    assert contracts.ses_send_bulk_email(params) == []
    assert params["ConfigurationSetName"] == "pulse"
    unencoded = json.loads(json.dumps(params))
    unencoded["BulkEmailEntries"][0]["Destination"]["ToAddresses"] = ["Zoë <z@example.com>"]
    assert any("RFC 2047" in p for p in contracts.ses_send_bulk_email(unencoded))
    unencoded["BulkEmailEntries"][0]["Destination"]["ToAddresses"] = ["z@bücher.example"]
    assert contracts.ses_send_bulk_email(unencoded) != []

    assert contracts.resend_message({"from": "a@example.com", "to": ["b@example.com"]}) != []
    assert contracts.resend_batch([{"from": "a@example.com", "subject": "s", "html": "x"}]) != []
