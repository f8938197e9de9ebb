"""``pulse events import`` (backfill) and ``pulse events mailbox`` (the inbound SMTP path)."""

from __future__ import annotations

import json
import mailbox
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from pipeline.events.models import EventType, ProviderEvent
from pipeline.wiring import Pulse
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import is_suppressed
from tests.conftest import Cli, Workspace
from tests.events.conftest import FIXTURES, READER, fixture, seed_and_send
from tests.forgery import altered

R2, R3, R4, R5 = (f"reader00000{n}@example.com" for n in (2, 3, 4, 5))


def status_of(pulse: Pulse, email: str) -> SubscriberStatus:
    with pulse.db.sessions() as session:
        found = session.scalar(select(Subscriber.status).where(Subscriber.email == email))
        assert found is not None
        return found


def event_count(pulse: Pulse) -> int:
    with pulse.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ProviderEvent)) or 0)


def message_id_of(pulse: Pulse, email: str) -> str:
    from pipeline.delivery.models import Delivery

    with pulse.db.sessions() as session:
        value = session.scalar(
            select(Delivery.provider_message_id)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.email == email)
        )
        assert value is not None
        return value


# --- backfill ------------------------------------------------------------------------------


def test_import_applies_saved_events_through_the_webhook_path(
    cli: Cli, pulse: Pulse, workspace: Workspace
) -> None:
    seed_and_send(pulse, readers=3)
    saved = workspace.root / "postmark-outage.json"
    complaint = fixture("postmark", "spam_complaint") | {"Email": R2}
    saved.write_text(json.dumps([fixture("postmark", "hard_bounce"), complaint]))
    result = cli("events", "import", "postmark", str(saved))
    assert result.exit_code == 0, result.stderr
    assert "stored 2" in result.stdout
    assert status_of(pulse, READER) is SubscriberStatus.BOUNCED
    assert status_of(pulse, R2) is SubscriberStatus.COMPLAINED
    again = cli("events", "import", "postmark", str(saved))
    assert "stored 0, duplicates 2" in again.stdout


def test_import_of_sendgrid_and_ses_files_in_their_posted_shapes(
    cli: Cli, pulse: Pulse, workspace: Workspace
) -> None:
    seed_and_send(pulse, readers=3)
    sendgrid = workspace.root / "sendgrid.json"
    sendgrid.write_text(json.dumps(fixture("sendgrid", "bounce") + fixture("sendgrid", "open")))
    ses = workspace.root / "ses.json"
    complaint = fixture("ses", "complaint")
    complaint["complaint"]["complainedRecipients"] = [{"emailAddress": R2}]
    ses.write_text(json.dumps({"Type": "Notification", "Message": json.dumps(complaint)}))
    assert cli("events", "import", "sendgrid", str(sendgrid)).exit_code == 0
    assert cli("events", "import", "ses", str(ses)).exit_code == 0
    assert status_of(pulse, READER) is SubscriberStatus.BOUNCED
    assert status_of(pulse, R2) is SubscriberStatus.COMPLAINED
    assert event_count(pulse) == 3


def test_a_bad_item_stops_the_import_and_nothing_is_kept(
    cli: Cli, pulse: Pulse, workspace: Workspace
) -> None:
    seed_and_send(pulse)
    saved = workspace.root / "events.json"
    broken = fixture("postmark", "soft_bounce") | {"BouncedAt": "not a time"}
    saved.write_text(json.dumps([fixture("postmark", "hard_bounce"), broken]))
    result = cli("events", "import", "postmark", str(saved))
    assert result.exit_code == 1
    assert "item 2: BouncedAt" in result.stderr
    assert event_count(pulse) == 0
    assert status_of(pulse, READER) is SubscriberStatus.ACTIVE


def test_import_names_bad_json_missing_files_and_unknown_providers(
    cli: Cli, workspace: Workspace
) -> None:
    saved = workspace.root / "events.json"
    saved.write_text('[{"RecordType": "Bounce",\n  oops]')
    result = cli("events", "import", "postmark", str(saved))
    assert result.exit_code == 1 and "line 2" in result.stderr
    missing = cli("events", "import", "postmark", str(workspace.root / "nope.json"))
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    unknown = cli("events", "import", "mandrill", str(saved))
    assert unknown.exit_code == 1 and "choose one of mailgun, postmark" in unknown.stderr


def test_an_event_imported_after_its_webhook_arrived_is_a_duplicate(
    cli: Cli, pulse: Pulse, workspace: Workspace
) -> None:
    from pipeline.events.policy import apply_event
    from pipeline.events.providers import SOURCES
    from pulse_core.database import transaction

    seed_and_send(pulse)
    [event] = SOURCES["resend"].parse(fixture("resend", "bounced"))
    with transaction(pulse.db.sessions) as session:
        apply_event(session, event, pulse.event_policy)
    saved = workspace.root / "resend.json"
    saved.write_text(json.dumps(fixture("resend", "bounced"), indent=4))
    result = cli("events", "import", "resend", str(saved))
    assert "stored 0, duplicates 1" in result.stdout


# --- mailbox -------------------------------------------------------------------------------


def report(name: str, recipient: str, message_id: str) -> bytes:
    text = (FIXTURES / "mailbox" / name).read_text(encoding="utf-8")
    return text.replace("{recipient}", recipient).replace("{message_id}", message_id).encode()


def plain(subject: str, sender: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "pulse@news.example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash(subject))}@mail.example.com>"
    message.set_content("sent from my phone")
    return message.as_bytes()


def fill(box: mailbox.Mailbox[mailbox.Message], pulse: Pulse) -> None:
    with pulse.db.sessions() as session:
        ids = {
            email: sid for email, sid in session.execute(select(Subscriber.email, Subscriber.id))
        }
    token = pulse.signer.unsubscribe_token(ids[R4])
    forged = altered(pulse.signer.unsubscribe_token(ids[R5]))
    for raw in (
        report("dsn_hard.eml", READER, message_id_of(pulse, READER)),
        report("dsn_delayed.eml", R2, message_id_of(pulse, R2)),
        report("arf_abuse.eml", R3, message_id_of(pulse, R3)),
        plain(f"unsubscribe {token}", R4),
        plain(f"unsubscribe {forged}", R5),
        plain("Re: AISE Pulse Brief", R5),
    ):
        box.add(raw)
    box.close()


def check_mailbox_effects(pulse: Pulse, stdout: str) -> None:
    assert "6 messages, 4 events, 2 skipped" in stdout
    assert status_of(pulse, READER) is SubscriberStatus.BOUNCED
    assert status_of(pulse, R2) is SubscriberStatus.ACTIVE  # delayed is not a bounce
    assert status_of(pulse, R3) is SubscriberStatus.COMPLAINED
    assert status_of(pulse, R4) is SubscriberStatus.UNSUBSCRIBED
    assert status_of(pulse, R5) is SubscriberStatus.ACTIVE  # a forged token does nothing
    with pulse.db.sessions() as session:
        keys = pulse.subscribers.hash_keys
        assert is_suppressed(session, READER, keys) and is_suppressed(session, R4, keys)
        rows = list(session.scalars(select(ProviderEvent).order_by(ProviderEvent.id)))
        # A Maildir has no order: compare as sets.
        assert {row.type for row in rows} == {
            EventType.BOUNCED,
            EventType.DEFERRED,
            EventType.COMPLAINED,
            EventType.UNSUBSCRIBED,
        }
        # DSN and ARF name the original Message-ID: matched to the delivery it reports on.
        reports = [row for row in rows if row.type is not EventType.UNSUBSCRIBED]
        assert all(row.delivery_id is not None for row in reports)
        [unsubscribe] = [row for row in rows if row.type is EventType.UNSUBSCRIBED]
        assert "[unsubscribe token]" in unsubscribe.raw  # the token itself is not kept


def test_mailbox_applies_bounces_complaints_and_unsubscribes_from_an_mbox(
    cli: Cli, pulse: Pulse, workspace: Workspace
) -> None:
    seed_and_send(pulse, readers=5)
    path = workspace.root / "bounces.mbox"
    fill(mailbox.mbox(path), pulse)
    result = cli("events", "mailbox", str(path), "--verbose")
    assert result.exit_code == 0, result.stderr
    check_mailbox_effects(pulse, result.stdout)
    assert "invalid token" in result.stdout
    again = cli("events", "mailbox", str(path))
    assert "stored 0, duplicates 4" in again.stdout


def test_mailbox_reads_a_maildir(cli: Cli, pulse: Pulse, workspace: Workspace) -> None:
    seed_and_send(pulse, readers=5)
    path = workspace.root / "Maildir"
    fill(mailbox.Maildir(path, create=True), pulse)
    result = cli("events", "mailbox", str(path))
    assert result.exit_code == 0, result.stderr
    check_mailbox_effects(pulse, result.stdout)


def test_a_failed_dsn_with_a_4xx_status_is_a_soft_bounce(pulse: Pulse, tmp_path: Path) -> None:
    from pipeline.events.mailbox import scan_mailbox

    path = tmp_path / "soft.mbox"
    box = mailbox.mbox(path)
    box.add(report("dsn_soft_failed.eml", READER, "<x@y>"))
    box.close()
    [event] = scan_mailbox(path, pulse.signer).events
    assert event.type is EventType.BOUNCED and event.bounce_kind is not None
    assert event.bounce_kind.value == "soft" and event.recipient == READER


def test_mailbox_names_a_path_that_is_not_a_mailbox(cli: Cli, workspace: Workspace) -> None:
    result = cli("events", "mailbox", str(workspace.root / "missing"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    folder = workspace.root / "folder"
    folder.mkdir()
    result = cli("events", "mailbox", str(folder))
    assert result.exit_code == 1 and "not a Maildir" in result.stderr
