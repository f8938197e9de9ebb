"""Issue 12 item 1: header and body injection through names and subjects.

The payload is the one from the issue: an RFC 2047 encoded-word whose decoded text carries
CR/LF, ``Bcc:`` and an extra header. On this interpreter (3.11.7, CVE-2024-6923 unfixed)
``email`` writes the decoded CR/LF verbatim; every path must refuse or neutralise it.
"""

from __future__ import annotations

from collections.abc import Sequence
from email import message_from_bytes, policy
from email.headerregistry import Address

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.delivery import message as message_module
from pipeline.delivery.header_check import HeaderInjection
from pipeline.delivery.message import Batch, Recipient, build_mime, clean_display_name
from pipeline.errors import ValidationError
from pipeline.issues.assemble import checked_subject
from pipeline.issues.merge import MergeTemplate
from pipeline.wiring import Pulse
from subscribers.display import header_text_problem
from subscribers.fields import clean_first_name
from tests.subscribers.conftest import all_subscribers, sign_up

PAYLOAD = "=?utf-8?b?eA0KQmNjOiBldmlsQGV4YW1wbGUubmV0DQpYLUluamVjdGVkOiB5ZXM=?="
VARIANTS = [
    PAYLOAD,
    "=?UTF-8?Q?x=0D=0ABcc:_evil@example.net?=",
    "Ann =?iso-8859-1?q?=0ABcc=3A_evil=40example.net?= Lee",
    "=?utf-8?b??=",
    # Found by the fuzz test below: no charset, one "?" too few for RFC 2047, yet Python's
    # address parser still takes it for an encoded-word and writes the To header without
    # the address.
    "=??B?=00",
    "x\r\nBcc: evil@example.net",
    "x\nBcc: evil@example.net",
    "x\u2028Bcc: evil@example.net",
    "x\x85Bcc: evil@example.net",
]
EXPECTED = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Id",
    "List-Unsubscribe",
    "Content-Type",
]


def make_batch(name: str | None, subject: str = "Weekly brief") -> tuple[Batch, Recipient]:
    recipient = Recipient(
        delivery_id=7,
        email="reader@example.com",
        name=name,
        message_id="<pulse.test.7@example.com>",
        values={},
        headers={"List-Unsubscribe": "<https://example.com/u/abc>"},
    )
    batch = Batch(
        key="2026-W48",
        subject=subject,
        sender=Address("AISE Pulse Brief", "pulse", "example.com"),
        html=MergeTemplate(parts=("<p>hello</p>",)),
        text=MergeTemplate(parts=("hello",)),
        recipients=[recipient],
        headers={"List-Id": "AISE Pulse Brief <pulse.example.com>"},
    )
    return batch, recipient


def header_names(raw: bytes) -> list[str]:
    parsed = message_from_bytes(raw, policy=policy.default)
    return [name for name, _ in parsed.items()]


def assert_exactly_our_headers(raw: bytes, expected: Sequence[str] = EXPECTED) -> None:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert sorted(n.lower() for n in parsed) == sorted(n.lower() for n in expected)
    to = parsed["To"]
    assert len(to.addresses) == 1 and to.addresses[0].addr_spec == "reader@example.com"
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert not [line for line in lines if line.lower().startswith((b"bcc", b"x-injected"))]
    assert b"evil@example.net" not in body


@pytest.mark.parametrize("name", VARIANTS)
def test_a_hostile_first_name_is_refused_at_signup(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_first_name(name)
    assert caught.value.field == "first_name"


def test_the_signup_form_refuses_the_payload_and_stores_nothing(
    client: TestClient, site: Pulse
) -> None:
    response = sign_up(client, "victim@example.com", PAYLOAD)
    assert response.status_code == 400
    assert "encoded" in response.text
    assert all_subscribers(site) == []


@pytest.mark.parametrize("name", VARIANTS)
def test_a_stored_hostile_name_is_neutralised_in_the_written_message(name: str) -> None:
    # A row written before the checks existed (or by another path) still cannot inject.
    batch, recipient = make_batch(clean_display_name(name))
    raw = build_mime(batch, recipient).as_bytes()
    assert_exactly_our_headers(raw)


def test_the_writer_refuses_a_raw_payload_name() -> None:
    batch, recipient = make_batch(PAYLOAD)
    with pytest.raises(ValidationError):
        build_mime(batch, recipient)


def test_the_serialised_check_catches_the_cve_even_if_validation_is_bypassed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With the value checks switched off, this interpreter's email package really does
    # emit the decoded CR/LF (CVE-2024-6923); the read-back of the header block stops it.
    monkeypatch.setattr(message_module, "header_text_problem", lambda _text: None)
    batch, recipient = make_batch(PAYLOAD)
    with pytest.raises(HeaderInjection):
        build_mime(batch, recipient)


@pytest.mark.parametrize("subject", VARIANTS)
def test_a_hostile_subject_is_refused_or_neutralised_when_the_issue_is_built(
    subject: str,
) -> None:
    try:
        accepted = checked_subject(subject, 3, None)
    except ValidationError as err:
        assert err.field == "subject"
        assert "=?" in subject
        return
    # Raw control characters are stripped (spaces); encoded-words are always refused.
    assert "=?" not in subject
    assert header_text_problem(accepted) is None


@pytest.mark.parametrize("subject", VARIANTS)
def test_a_hostile_subject_never_reaches_the_wire(subject: str) -> None:
    batch, recipient = make_batch("Ann", subject=subject)
    with pytest.raises(ValidationError):
        build_mime(batch, recipient)


def test_a_hostile_lead_title_is_neutralised_in_the_default_subject() -> None:
    subject = checked_subject(None, 3, PAYLOAD)
    batch, recipient = make_batch("Ann", subject=subject)
    assert_exactly_our_headers(build_mime(batch, recipient).as_bytes())


def test_json_providers_get_a_plain_display_name() -> None:
    _batch, recipient = make_batch("Zoë")
    assert recipient.display_name == "Zoë"
    assert "=?" not in recipient.display_name


_pieces = st.text(st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ["=?", "?=", "\r", "\n", "?b?", "?q?", "utf-8", "=0D=0A", "DQo", "Bcc: x@y.z", "\u2028"]
)
_text = st.lists(_pieces, max_size=10).map("".join)
_fuzz = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_fuzz
@given(name=_text)
def test_any_name_is_refused_or_written_with_exactly_our_headers(name: str) -> None:
    try:
        accepted = clean_first_name(name)
    except ValidationError:
        accepted = None
    for candidate in (accepted, clean_display_name(name)):
        batch, recipient = make_batch(candidate)
        assert_exactly_our_headers(build_mime(batch, recipient).as_bytes())


@_fuzz
@given(subject=_text.filter(lambda s: s.strip()))
def test_any_subject_is_refused_or_written_with_exactly_our_headers(subject: str) -> None:
    try:
        accepted = checked_subject(subject, 3, None)
    except ValidationError:
        return
    batch, recipient = make_batch("Ann", subject=accepted)
    raw = build_mime(batch, recipient).as_bytes()
    assert_exactly_our_headers(raw)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert str(parsed["Subject"]) == accepted
