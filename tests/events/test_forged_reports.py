"""Issue 12 #2: forged bounce and complaint reports mailed to the bounce address change nothing.

Each attack is a report an outsider can write: it names a subscriber's address, but not a
message we sent them. Only a report linked to one of our messages — our signed VERP return
path, or the original Message-ID of a delivery to that very recipient — may bounce or
suppress anyone. The DSN shapes real MTAs produce (see pipeline.events.dsn) are tested here
too, since leniency must not open a door the proof check does not close.
"""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pipeline.delivery.models import Delivery
from pipeline.delivery.verp import ReturnPaths
from pipeline.events.dsn import failed_recipients
from pipeline.events.mailbox import scan_mailbox
from pipeline.events.models import ProviderEvent
from pipeline.events.policy import IngestReport, apply_events
from pipeline.wiring import Pulse
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import is_suppressed
from tests.conftest import Cli, Workspace
from tests.events.conftest import READER, seed_and_send

OTHER = "reader000002@example.com"
RELAYED = "u12345@internal.relay.example"  # what a relay rewrote the address to


def dsn(
    recipient: str,
    *,
    message_id: str | None = None,
    to: str = "pulse@news.example.com",
    original_recipient: str | None = None,
    action: str = "failed",
    status: str = "5.1.1",
    report_type: str | None = "delivery-status",
    extra: str = "",
) -> bytes:
    """A delivery status notification as an MTA — or an attacker — writes it."""
    report = f"; report-type={report_type}" if report_type else ""
    original = f"Original-Recipient: rfc822;{original_recipient}\n" if original_recipient else ""
    returned = f"Message-ID: {message_id}\n" if message_id else ""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        f"To: {to}\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Message-ID: <{abs(hash((recipient, message_id, to, action, extra)))}@mx.example.net>\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report{report}; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--b1\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {recipient}\n{original}{extra}"
        f"Action: {action}\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; 550 {status} user unknown\n\n"
        "--b1\nContent-Type: text/rfc822-headers\n\n"
        f"From: AISE Pulse Brief <pulse@news.example.com>\nTo: {recipient}\n{returned}\n"
        "--b1--\n"
    ).encode()


def arf(recipient: str, message_id: str | None = None) -> bytes:
    returned = f"Message-ID: {message_id}\n" if message_id else ""
    return (
        "From: fbl@isp.example\nTo: abuse@news.example.com\nSubject: complaint\n"
        f"Message-ID: <arf.{abs(hash((recipient, message_id)))}@isp.example>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="a"\n\n'
        "--a\nContent-Type: text/plain\n\nabuse report\n\n"
        "--a\nContent-Type: message/feedback-report\n\n"
        f"Feedback-Type: abuse\nVersion: 1\nOriginal-Rcpt-To: <{recipient}>\n\n"
        "--a\nContent-Type: text/rfc822-headers\n\n"
        f"To: {recipient}\n{returned}\n--a--\n"
    ).encode()


def deliveries(pulse: Pulse) -> dict[str, tuple[int, str]]:
    """Each reader's delivery id and recorded Message-ID."""
    with pulse.db.sessions() as session:
        rows = session.execute(
            select(Subscriber.email, Delivery.id, Delivery.provider_message_id).join(
                Delivery, Delivery.subscriber_id == Subscriber.id
            )
        )
        return {email: (delivery_id, message_id or "") for email, delivery_id, message_id in rows}


def apply_mailbox(pulse: Pulse, tmp_path: Path, *messages: bytes) -> IngestReport:
    path = tmp_path / f"box{abs(hash(messages))}.mbox"
    box = mailbox.mbox(path)
    for raw in messages:
        box.add(raw)
    box.close()
    paths = ReturnPaths("bounce.news.example.com", pulse.settings.secret_keys())
    scan = scan_mailbox(path, pulse.signer, paths)
    with pulse.db.sessions() as session, session.begin():
        return apply_events(session, scan.events, pulse.event_policy)


def state(pulse: Pulse, email: str) -> tuple[SubscriberStatus, bool]:
    with pulse.db.sessions() as session:
        status = session.scalar(select(Subscriber.status).where(Subscriber.email == email))
        assert status is not None
        return status, is_suppressed(session, email, pulse.subscribers.hash_keys)


def verp(pulse: Pulse, delivery_id: int) -> str:
    return ReturnPaths("bounce.news.example.com", pulse.settings.secret_keys()).address(delivery_id)


@pytest.fixture
def sent(pulse: Pulse) -> Pulse:
    seed_and_send(pulse, readers=3)
    return pulse


# --- attacks -------------------------------------------------------------------------------


def test_a_forged_bounce_naming_only_an_address_changes_nothing(
    sent: Pulse, tmp_path: Path
) -> None:
    report = apply_mailbox(sent, tmp_path, dsn(READER), arf(READER))
    assert report.stored == 2 and report.unmatched == 2 and not report.changes
    assert state(sent, READER) == (SubscriberStatus.ACTIVE, False)
    with sent.db.sessions() as session:
        rows = list(session.scalars(select(ProviderEvent)))
        assert all(row.subscriber_id is None and row.delivery_id is None for row in rows)


def test_a_made_up_or_someone_elses_message_id_changes_nothing(sent: Pulse, tmp_path: Path) -> None:
    others_id = deliveries(sent)[OTHER][1]
    guessed = f"<pulse.2026-W48.{deliveries(sent)[READER][0]}@other.example>"
    report = apply_mailbox(
        sent,
        tmp_path,
        dsn(READER, message_id=others_id),  # a real id, but of a message to someone else
        dsn(READER, message_id=guessed, status="5.1.2"),
        arf(READER, message_id=others_id),
    )
    assert report.stored == 3 and not report.changes
    assert state(sent, READER) == (SubscriberStatus.ACTIVE, False)
    assert state(sent, OTHER) == (SubscriberStatus.ACTIVE, False)


def test_a_forged_verp_token_changes_nothing(sent: Pulse, tmp_path: Path) -> None:
    delivery_id = deliveries(sent)[READER][0]
    genuine = verp(sent, delivery_id)
    forged = genuine.replace(genuine.split("-")[-1].split("@")[0], "a" * 16)
    other_key = ReturnPaths("bounce.news.example.com", ["not-our-key"]).address(delivery_id)
    report = apply_mailbox(sent, tmp_path, dsn(READER, to=forged), dsn(READER, to=other_key))
    assert report.stored == 2 and not report.changes
    assert state(sent, READER) == (SubscriberStatus.ACTIVE, False)


def test_a_verp_token_acts_on_its_own_delivery_never_the_named_address(
    sent: Pulse, tmp_path: Path
) -> None:
    # An attacker holding their own genuine return path names a victim in the report.
    attacker_path = verp(sent, deliveries(sent)[OTHER][0])
    apply_mailbox(sent, tmp_path, dsn(READER, to=attacker_path))
    assert state(sent, READER) == (SubscriberStatus.ACTIVE, False)
    assert state(sent, OTHER) == (SubscriberStatus.BOUNCED, True)  # only their own


def test_soft_bounce_forgeries_do_not_count_towards_the_limit(sent: Pulse, tmp_path: Path) -> None:
    forged = [dsn(READER, status="4.2.2", extra=f"X-N: {n}\n") for n in range(5)]
    apply_mailbox(sent, tmp_path, *forged)
    message_id = deliveries(sent)[READER][1]
    apply_mailbox(sent, tmp_path, dsn(READER, message_id=message_id, status="4.2.2"))
    assert state(sent, READER) == (SubscriberStatus.ACTIVE, False)  # 1 proven < limit 3


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    action=st.sampled_from(["failed", "failure", "error", "delayed", "failed (x)", "FAILED"]),
    status=st.from_regex(r"[245]\.[0-9]\.[0-9]{1,2}", fullmatch=True),
    junk=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40),
)
def test_no_unproven_report_of_any_shape_changes_anyone(
    sent: Pulse, tmp_path: Path, action: str, status: str, junk: str
) -> None:
    report = apply_mailbox(
        sent, tmp_path, dsn(READER, action=action, status=status, extra=f"X-Junk: {junk}\n")
    )
    assert not report.changes
    assert state(sent, READER) == (SubscriberStatus.ACTIVE, False)


# --- genuine reports -----------------------------------------------------------------------


def test_a_verp_bounce_suppresses_the_subscriber_even_when_the_mta_rewrote_the_address(
    sent: Pulse, tmp_path: Path
) -> None:
    delivery_id = deliveries(sent)[READER][0]
    report = apply_mailbox(
        sent, tmp_path, dsn("u12345@internal.relay.example", to=verp(sent, delivery_id))
    )
    assert report.changes["bounced"] == 1
    assert state(sent, READER) == (SubscriberStatus.BOUNCED, True)
    with sent.db.sessions() as session:
        assert not is_suppressed(
            session, "u12345@internal.relay.example", sent.subscribers.hash_keys
        )


def test_original_recipient_is_preferred_over_a_relays_final_recipient(
    sent: Pulse, tmp_path: Path
) -> None:
    message_id = deliveries(sent)[READER][1]
    raw = dsn(RELAYED, message_id=message_id, original_recipient=READER)
    apply_mailbox(sent, tmp_path, raw)
    assert state(sent, READER) == (SubscriberStatus.BOUNCED, True)


def test_the_cli_reports_forged_reports_as_unmatched(
    sent: Pulse, cli: Cli, workspace: Workspace
) -> None:
    path = workspace.root / "forged.mbox"
    box = mailbox.mbox(path)
    box.add(dsn(READER))
    box.close()
    result = cli("events", "mailbox", str(path))
    assert result.exit_code == 0
    assert (
        "without a matching delivery 1" in result.stdout and "list changes: none" in result.stdout
    )
    assert state(sent, READER) == (SubscriberStatus.ACTIVE, False)


# --- the DSN shapes strict readers miss ----------------------------------------------------


def _addresses(raw: bytes) -> list[tuple[str, bool]]:
    from email import message_from_bytes

    return [(r.address, r.delayed) for r in failed_recipients(message_from_bytes(raw))]


@pytest.mark.parametrize("action", ["failed (bad destination mailbox address)", "failure", "error"])
def test_failed_actions_as_mtas_spell_them(action: str) -> None:
    assert _addresses(dsn("a@example.com", action=action)) == [("a@example.com", False)]


def test_whitespace_only_lines_and_a_missing_report_type() -> None:
    raw = dsn("a@example.com", report_type=None, extra="   \n").replace(
        b"Reporting-MTA: dns; mx.example.net\n\n", b"Reporting-MTA: dns; mx.example.net\n \n"
    )
    assert _addresses(raw) == [("a@example.com", False)]


def test_a_report_nested_in_multipart_mixed() -> None:
    outer = MIMEMultipart("mixed")
    outer.attach(MIMEText("a note from the relay"))
    inner = EmailMessage()
    from email import message_from_bytes

    inner = message_from_bytes(dsn("a@example.com", action="delayed", status="4.4.7"))
    outer.attach(inner)
    assert _addresses(outer.as_bytes()) == [("a@example.com", True)]
