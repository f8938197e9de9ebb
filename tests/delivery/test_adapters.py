"""Adapter quirks through the transport seam: each answer as the provider documents it.

The HTTP adapters take a ``transport``; :class:`HandlerTransport` hands each request to a
function here instead of the network, so every documented answer can be given exactly.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import ProviderName
from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.providers.addresses import ascii_email, header_address, plain_address
from pipeline.delivery.providers.base import Capabilities, Provider, SendResult, SendStatus
from pipeline.delivery.providers.errors import (
    BadRecipientInBatch,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from pipeline.delivery.providers.http import (
    HandlerTransport,
    HttpAnswer,
    HttpRequest,
    retry_after_seconds,
)
from pipeline.delivery.providers.mailgun import MailgunProvider, base_url
from pipeline.delivery.providers.postmark import PostmarkProvider
from pipeline.delivery.providers.resend import ResendProvider, idempotency_key
from pipeline.delivery.providers.sendgrid import SendGridProvider, safe_name
from pipeline.delivery.retry import MAX_HINT
from pipeline.delivery.transactional import TransactionalSender
from pipeline.issues.merge import MergeTemplate
from pipeline.provider_wiring import PROVIDERS
from subscribers.outgoing import OutgoingEmail

NOW = 1_800_000_000.0


def batch(count: int = 3, *, key: str = "2026-W48", names: str | None = None) -> Batch:
    return Batch(
        key=key,
        subject="AISE Pulse Brief #12",
        sender=Address("AISE Pulse Brief", "pulse", "example.com"),
        html=MergeTemplate.parse("<p>Hi %%pulse:first_name%%</p>"),
        text=MergeTemplate.parse("Hi %%pulse:first_name%%"),
        recipients=[
            Recipient(
                delivery_id=i,
                email=f"reader{i}@example.com",
                name=names,
                message_id=f"<pulse.{key}.{i}@example.com>",
                values={"first_name": "there"},
                headers={"List-Unsubscribe": f"<https://news.example.com/u/{i}>"},
            )
            for i in range(1, count + 1)
        ],
        headers={"List-Id": "AISE Pulse Brief <aise.example.com>"},
    )


def answer(status: int, body: object = None, **headers: str) -> HttpAnswer:
    text = body if isinstance(body, str) else json.dumps(body)
    return HttpAnswer(status, {k.lower().replace("_", "-"): v for k, v in headers.items()}, text)


def replying(*answers: HttpAnswer) -> HandlerTransport:
    queue = list(answers)
    return HandlerTransport(lambda request: queue.pop(0))


def postmark(transport: HandlerTransport) -> PostmarkProvider:
    return PostmarkProvider(
        "t", stream="broadcast", api_url="http://x", timeout=1, pool_size=1, transport=transport
    )


# Retry hints -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)}, 30),
        ({"X-RateLimit-Reset": str(int(NOW) + 12)}, 12.0),  # epoch seconds (SendGrid)
        ({"X-RateLimit-Reset": str(int(NOW * 1000) + 4000)}, 4.0),  # epoch milliseconds
        ({"X-RateLimit-Reset": "3"}, 3.0),  # seconds from now
        ({"X-RateLimit-Reset": str(int(NOW * 1000) * 1000)}, MAX_HINT),  # absurd: capped
        ({"Retry-After": "99999999"}, MAX_HINT),
        ({"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0),  # in the past
        ({"Retry-After": "soon", "X-RateLimit-Reset": "5"}, 5.0),  # a bad one, then the other
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_hints_in_every_form_are_parsed_and_capped(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry_after_seconds(headers, NOW) == pytest.approx(expected)


@given(st.dictionaries(st.sampled_from(["Retry-After", "X-RateLimit-Reset"]), st.text()))
def test_any_retry_hint_is_none_or_within_the_cap(headers: dict[str, str]) -> None:
    hint = retry_after_seconds(headers, NOW)
    assert hint is None or 0.0 <= hint <= MAX_HINT


def test_a_429_carries_the_capped_hint() -> None:
    provider = postmark(replying(answer(429, {}, Retry_After=str(int(time.time() * 1000)))))
    with pytest.raises(TransientProviderError) as caught:
        provider.send_batch(batch())
    assert caught.value.retry_after is not None and caught.value.retry_after <= MAX_HINT


# Postmark ----------------------------------------------------------------------------


def test_postmark_delayed_acceptance_is_accepted() -> None:
    delayed = {
        "To": "reader1@example.com",
        "SubmittedAt": "2026-12-01T09:00:00Z",
        "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
        "Message": "Message accepted, but delivery may be delayed.",
    }
    ok = {"ErrorCode": 0, "Message": "OK", "MessageID": "m2"}
    results = postmark(replying(answer(200, [delayed, ok, ok]))).send_batch(batch())
    assert [r.status for r in results] == [SendStatus.SENT] * 3
    assert results[0].provider_message_id == delayed["MessageID"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (405, "Not allowed to send: you have run out of credits."),
        (400, "Sender signature not found."),
        (401, "Sender signature not confirmed."),
        (412, "Account is pending approval: you can only send to your own domain."),
        (413, "Not allowed to send: the account may not send."),
        (300, "Invalid 'From' address: 'pulse@localhost'."),
        (300, "Invalid metadata content: keys must be strings."),
    ],
)
def test_postmark_account_and_sender_codes_stop_the_send_keeping_the_accepted(
    code: int, message: str
) -> None:
    ok = {"ErrorCode": 0, "Message": "OK", "MessageID": "m1"}
    refused = {"ErrorCode": code, "Message": message}
    provider = postmark(replying(answer(200, [ok, refused, refused])))
    with pytest.raises(PermanentProviderError) as caught:
        provider.send_batch(batch())
    assert [(r.delivery_id, r.status) for r in caught.value.partial] == [(1, SendStatus.SENT)]


def test_postmark_300_naming_the_recipient_fails_that_recipient_only() -> None:
    ok = {"ErrorCode": 0, "Message": "OK", "MessageID": "m1"}
    bad = {"ErrorCode": 300, "Message": "Invalid 'To' address: 'reader2@example'."}
    results = postmark(replying(answer(200, [ok, bad, ok]))).send_batch(batch())
    assert [r.status for r in results] == [SendStatus.SENT, SendStatus.INVALID, SendStatus.SENT]


def test_a_2xx_without_idempotency_is_never_re_sent() -> None:
    # A 200 whose per-message part is unreadable: Postmark took the call.
    results = postmark(replying(answer(200, "not json"))).send_batch(batch())
    assert {r.status for r in results} == {SendStatus.QUEUED}


def test_postmark_sends_transactional_mail_on_its_own_stream() -> None:
    transport = replying(answer(200, [{"ErrorCode": 0, "MessageID": "m"}]))
    provider = PostmarkProvider(
        "t",
        stream="broadcast",
        transactional_stream="outbound",
        api_url="http://x",
        timeout=1,
        pool_size=1,
        transport=transport,
    )
    TransactionalSender(lambda: provider, Address("Pulse", "pulse", "example.com"))(
        OutgoingEmail(
            to="a@example.com", subject="Confirm", html="<p>x</p>", text="x", kind="confirm"
        )
    )
    (sent,) = json.loads(b"".join(transport.requests[0].body))  # type: ignore[arg-type]
    assert sent["MessageStream"] == "outbound"
    assert json.loads(postmark_body(batch()))[0]["MessageStream"] == "broadcast"


def postmark_body(b: Batch) -> bytes:
    return postmark(replying()).body(b)


def test_a_batch_over_the_size_limit_is_split_and_a_later_failure_keeps_the_earlier() -> None:
    ok = [{"ErrorCode": 0, "MessageID": "m"}]
    transport = replying(answer(200, ok), answer(200, ok), answer(503, {}))
    provider = postmark(transport)
    one = len(postmark_body(batch(1)))
    provider.capabilities = type(provider.capabilities)(max_batch=500, max_bytes=one + 50)
    with pytest.raises(TransientProviderError) as caught:
        provider.send_batch(batch(3))
    assert [r.delivery_id for r in caught.value.partial] == [1, 2]
    assert all(request.size <= one + 50 for request in transport.requests)


# Mailgun -----------------------------------------------------------------------------


def mailgun(transport: HandlerTransport, api_url: str = "http://x") -> MailgunProvider:
    return MailgunProvider(
        "k", domain="mg.example.com", api_url=api_url, timeout=1, pool_size=1, transport=transport
    )


@pytest.mark.parametrize(
    "url", ["https://api.mailgun.net", "https://api.mailgun.net/", "https://api.mailgun.net/v3"]
)
def test_mailgun_base_url_drops_a_trailing_v3(url: str) -> None:
    assert base_url(url) == "https://api.mailgun.net"


@pytest.mark.parametrize(
    "body",
    [
        "Mailgun Magnificent API",  # a path Mailgun does not know
        {"message": "Queued. Thank you."},  # no id
        {"id": "<x@mg>", "message": "Something else"},
        [],
    ],
)
def test_mailgun_counts_only_a_queued_answer(body: object) -> None:
    with pytest.raises(PermanentProviderError, match="Queued"):
        mailgun(replying(answer(200, body))).send_batch(batch())


def test_mailgun_headers_use_h_variables_and_each_message_id_is_kept() -> None:
    provider = mailgun(replying(answer(200, {"id": "<b@mg>", "message": "Queued. Thank you."})))
    form = dict(provider.form(batch(2)))
    assert form["h:List-Unsubscribe"] == "%recipient.h:List-Unsubscribe%"
    variables = json.loads(form["recipient-variables"])
    assert (
        variables["reader1@example.com"]["h:List-Unsubscribe"] == "<https://news.example.com/u/1>"
    )
    results = provider.send_batch(batch(2))
    assert [r.provider_message_id for r in results] == [
        "<pulse.2026-W48.1@example.com>",
        "<pulse.2026-W48.2@example.com>",
    ]


def test_mailgun_bad_address_is_reported_for_isolation() -> None:
    refused = answer(
        400, {"message": "to parameter is not a valid address. please check documentation"}
    )
    with pytest.raises(BadRecipientInBatch) as caught:
        mailgun(replying(refused)).send_batch(batch())
    assert caught.value.delivery_ids == ()


# SendGrid ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kept"), [("Ann, B", None), ("A; B", None), ("Zoë", "Zoë")])
def test_sendgrid_drops_names_it_would_silently_drop_the_recipient_for(
    name: str, kept: str | None
) -> None:
    assert safe_name(name) == kept
    provider = SendGridProvider("k", api_url="http://x", timeout=1, pool_size=1)
    to = provider.payload(batch(1, names=name))["personalizations"][0]["to"][0]
    assert to.get("name") == kept


def test_sendgrid_400_naming_a_recipient_names_its_delivery() -> None:
    errors = {
        "errors": [
            {
                "message": "Does not contain a valid address.",
                "field": "personalizations.1.to.0.email",
                "help": None,
            }
        ]
    }
    transport = replying(answer(400, errors))
    provider = SendGridProvider(
        "k", api_url="http://x", timeout=1, pool_size=1, transport=transport
    )
    with pytest.raises(BadRecipientInBatch) as caught:
        provider.send_batch(batch())
    assert caught.value.delivery_ids == (2,)
    other = replying(answer(400, {"errors": [{"message": "bad", "field": "from.email"}]}))
    provider = SendGridProvider("k", api_url="http://x", timeout=1, pool_size=1, transport=other)
    with pytest.raises(PermanentProviderError) as refused:
        provider.send_batch(batch())
    assert not isinstance(refused.value, BadRecipientInBatch)


# Resend ------------------------------------------------------------------------------


def test_resend_keys_differ_per_message_and_repeat_for_the_same_one() -> None:
    assert idempotency_key(batch(2)) == idempotency_key(batch(2))
    assert idempotency_key(batch(2)) != idempotency_key(batch(2, key="2026-W49"))
    sender = TransactionalSender(lambda: resend(transport), Address("P", "p", "example.com"))
    transport = HandlerTransport(lambda request: answer(200, {"data": [{"id": "e1"}]}))
    for _ in range(2):
        sender(
            OutgoingEmail(to="a@example.com", subject="Confirm", html="x", text="x", kind="confirm")
        )
    keys = [r.headers["Idempotency-Key"] for r in transport.requests]
    assert len(set(keys)) == 2  # two confirmations, two keys


def resend(transport: HandlerTransport) -> ResendProvider:
    return ResendProvider("k", api_url="http://x", timeout=1, pool_size=1, transport=transport)


def test_resend_permissive_errors_fail_their_own_email_only() -> None:
    body = {
        "data": [{"id": "e1"}, {"id": "e3"}],
        "errors": [{"index": 1, "message": "Invalid `to`"}],
    }
    transport = replying(answer(200, body))
    results = resend(transport).send_batch(batch())
    assert [(r.status, r.provider_message_id) for r in results] == [
        (SendStatus.QUEUED, "e1"),
        (SendStatus.INVALID, None),
        (SendStatus.QUEUED, "e3"),
    ]
    assert transport.requests[0].headers["x-batch-validation"] == "permissive"


def test_resend_reused_key_with_another_body_is_not_retried() -> None:
    conflict = {"statusCode": 409, "name": "invalid_idempotent_request", "message": "payload"}
    with pytest.raises(PermanentProviderError):
        resend(replying(answer(409, conflict))).send_batch(batch())
    busy = {"statusCode": 409, "name": "concurrent_idempotent_requests", "message": "wait"}
    with pytest.raises(TransientProviderError):
        resend(replying(answer(409, busy))).send_batch(batch())


# Addresses and the registry -----------------------------------------------------------


def test_idn_domains_become_punycode_and_names_are_encoded_where_headers_are_wanted() -> None:
    assert ascii_email("leser@bücher.example") == "leser@xn--bcher-kva.example"
    assert (
        header_address("Zoë", "z@bücher.example")
        == "=?utf-8?q?Zo=C3=AB?= <z@xn--bcher-kva.example>"
    )
    assert header_address('Ann "A", B', "a@example.com") == '"Ann \\"A\\", B" <a@example.com>'
    assert plain_address("Zoë", "z@bücher.example") == '"Zoë" <z@xn--bcher-kva.example>'


def test_every_provider_name_has_an_entry_in_the_table() -> None:
    assert set(PROVIDERS) == set(get_args(ProviderName))


def test_the_transport_seam_receives_the_adapter_request() -> None:
    seen: list[HttpRequest] = []

    def handler(request: HttpRequest) -> HttpAnswer:
        seen.append(request)
        return answer(202, "", X_Message_Id="abc")

    provider = SendGridProvider(
        "k", api_url="http://x", timeout=1, pool_size=1, transport=HandlerTransport(handler)
    )
    results = provider.send_batch(batch(2))
    assert seen[0].path == "/v3/mail/send"
    assert [r.provider_message_id for r in results] == ["abc", "abc"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
HOSTILE = st.one_of(
    JSON.map(json.dumps),
    st.text(max_size=60),
    st.sampled_from(
        [
            '{"data": [{"id": 1}], "errors": [{"index": "0"}]}',
            '[{"ErrorCode": "0"}, {"MessageID": null}]',
            '{"errors": [{"field": "personalizations.999.to.0.email"}]}',
            '{"id": "", "message": "Queued"}',
        ]
    ),
)


@given(
    name=st.sampled_from(["postmark", "sendgrid", "mailgun", "resend"]),
    status=st.sampled_from([200, 201, 202, 204, 400, 404, 409, 413, 422]),
    body=HOSTILE,
)
def test_any_answer_gives_one_result_per_recipient_or_a_provider_error(
    name: str, status: int, body: str
) -> None:
    transport = replying(HttpAnswer(status, {}, body))
    providers = {
        "postmark": lambda: postmark(transport),
        "sendgrid": lambda: SendGridProvider(
            "k", api_url="http://x", timeout=1, pool_size=1, transport=transport
        ),
        "mailgun": lambda: mailgun(transport),
        "resend": lambda: resend(transport),
    }
    provider = providers[name]()
    sent = batch(3)
    try:
        results = provider.send_batch(sent)
    except ProviderError as err:
        assert {r.delivery_id for r in err.partial} <= {1, 2, 3}
        return
    assert [r.delivery_id for r in results] == [1, 2, 3]
    if 200 <= status < 300 and name != "resend":
        # A 2xx from a provider without idempotency keys is never left to be re-sent.
        assert all(r.status is not SendStatus.UNKNOWN for r in results)


def test_an_adapter_with_only_send_batch_still_runs_the_flow() -> None:
    class Minimal(Provider):
        name = "minimal"
        capabilities = Capabilities(max_batch=10)

        def send_batch(self, batch: Batch) -> list[SendResult]:
            return [SendResult(r.delivery_id, SendStatus.SENT) for r in batch.recipients]

    class Empty(Provider):
        name = "empty"
        capabilities = Capabilities(max_batch=10)

    results = Minimal().send_prepared(Minimal().prepare(batch(2)))
    assert [r.status for r in results] == [SendStatus.SENT] * 2
    with pytest.raises(NotImplementedError):
        Empty().send_batch(batch(1))
