"""``pulse subscribers import --from PLATFORM``: each platform's real export, statuses honoured."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.history import history_of
from subscribers.models import SubscriberStatus
from subscribers.platforms import PLATFORMS
from subscribers.suppression import Suppression, SuppressionReason, suppression_reason_of
from tests.conftest import Cli
from tests.subscribers.conftest import Outbox, all_subscribers, subscriber
from tests.subscribers.platform_files import EXPECTED, export_of

CONSENT = "Subscribed to the old newsletter, which this one continues"
REASONS = {
    "unsubscribed": SuppressionReason.UNSUBSCRIBED,
    "bounced": SuppressionReason.BOUNCED,
    "complained": SuppressionReason.COMPLAINED,
}


def suppression(site: Pulse, email: str) -> SuppressionReason | None:
    with transaction(site.db.sessions) as session:
        return suppression_reason_of(session, email, site.subscribers.hash_keys)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_platforms_export_imports_with_its_statuses_honoured(
    platform: str, cli: Cli, site: Pulse, outbox: Outbox, tmp_path: Path
) -> None:
    path = export_of(platform, tmp_path)
    result = cli("subscribers", "import", str(path), "--from", platform, "--consent", CONSENT)
    assert result.exit_code == 0, result.stderr
    expected = EXPECTED[platform]
    on_list = {s.email: s for s in all_subscribers(site)}
    # Only the people active on the old platform are on the list, and they are active.
    assert set(on_list) == expected["active"]
    assert all(s.status is SubscriberStatus.ACTIVE for s in on_list.values())
    for reason, people in expected.items():
        for email in people:
            want = REASONS.get(reason)
            assert suppression(site, email) is want, (email, reason)
    # Suppressed people leave only a keyed hash: no row, no name, and no mail at all.
    left = sum(len(expected.get(reason, ())) for reason in REASONS)
    assert f"{left} new suppressed" in result.stdout
    with transaction(site.db.sessions) as session:
        assert len(session.scalars(select(Suppression)).all()) == left
    assert outbox.messages() == []


def test_provenance_records_the_platform_file_and_original_signup(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    path = export_of("mailchimp", tmp_path)
    cli("subscribers", "import", str(path), "--from", "mailchimp", "--consent", CONSENT)
    ada = subscriber(site, "ada@example.com")
    assert ada is not None and ada.first_name == "Ada"
    assert ada.consent_text == CONSENT
    assert ada.consent_source == "cli:import:mailchimp:members_export_3f2a1b9c0d.zip"
    # Consent dates from the double opt-in on Mailchimp (CONFIRM_TIME), not from today.
    assert ada.consent_at == datetime(2021, 3, 4, 9, 14, tzinfo=UTC)
    assert ada.created_at > ada.consent_at
    with transaction(site.db.sessions) as session:
        [joined] = history_of(session, ada.id)
    assert joined.cause == "import" and joined.detail == ada.consent_source
    exported = cli("subscribers", "export", "ada@example.com")
    assert "mailchimp" in exported.stdout and "2021-03-04" in exported.stdout


def test_someone_on_our_list_who_left_there_leaves_and_nobody_is_unsuppressed(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    # Ula is active here but unsubscribed on Mailchimp; Ada was forgotten here (suppressed)
    # but is subscribed there; Grace unsubscribed here and is subscribed there.
    for email in ("ula@example.com", "ada@example.com", "grace@example.com"):
        cli("subscribers", "add", email, "--consent", "the booth")
    cli("subscribers", "forget", "ada@example.com")
    grace = subscriber(site, "grace@example.com")
    assert grace is not None
    from subscribers.preferences import unsubscribe

    unsubscribe(site.subscribers, grace.id, cause="admin")
    path = export_of("mailchimp", tmp_path)
    result = cli("subscribers", "import", str(path), "--from", "mailchimp", "--consent", CONSENT)
    assert result.exit_code == 0, result.stderr
    assert "1 taken off the list" in result.stdout and "1 suppressed (skipped)" in result.stdout
    ula = subscriber(site, "ula@example.com")
    assert ula is not None and ula.status is SubscriberStatus.UNSUBSCRIBED
    with transaction(site.db.sessions) as session:
        assert [c.cause for c in history_of(session, ula.id)][1:] == ["import"]
    assert suppression(site, "ula@example.com") is SuppressionReason.UNSUBSCRIBED
    assert subscriber(site, "ada@example.com") is None  # erased, and stays away
    assert subscriber(site, "grace@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]
    again = cli("subscribers", "import", str(path), "--from", "mailchimp", "--consent", CONSENT)
    assert "imported 0 new" in again.stdout and "taken off" not in again.stdout


def test_dry_run_counts_each_outcome_and_changes_nothing(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    cli("subscribers", "add", "cal@example.com", "--consent", "the booth")
    cli("subscribers", "add", "kai@example.com", "--consent", "the booth")
    before = {(s.email, s.status) for s in all_subscribers(site)}
    path = export_of("kit", tmp_path)
    args = ("subscribers", "import", str(path), "--from", "kit", "--consent", CONSENT)
    dry = cli(*args, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.startswith("dry run, nothing changed: would have imported 1 new")
    for count in (
        "1 already present",
        "2 new suppressed",
        "1 taken off the list",
        "1 unconfirmed on the old platform (skipped)",
    ):
        assert count in dry.stdout, count
    assert {(s.email, s.status) for s in all_subscribers(site)} == before
    with transaction(site.db.sessions) as session:
        assert session.scalars(select(Suppression)).all() == []
    real = cli(*args)
    assert real.stdout.split(": would have ")[-1] in dry.stdout  # the same counts, now done
    assert subscriber(site, "cal@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]


def test_asking_for_confirmation_includes_the_unconfirmed_and_never_mails_the_suppressed(
    cli: Cli, site: Pulse, outbox: Outbox, tmp_path: Path
) -> None:
    path = export_of("beehiiv", tmp_path)
    result = cli(
        "subscribers", "import", str(path), "--from", "beehiiv", "--consent", CONSENT,
        "--require-confirmation",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "confirmations sent: 2" in result.stdout
    assert {s.email for s in all_subscribers(site)} == {"bea@example.com", "pen@example.com"}
    assert all(s.status is SubscriberStatus.PENDING for s in all_subscribers(site))
    mailed = {str(m["To"]).split("<")[-1].rstrip(">") for m in outbox.messages()}
    assert mailed == {"bea@example.com", "pen@example.com"}


def test_an_unknown_platform_is_refused_before_the_file_is_read(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    path = export_of("ghost", tmp_path)
    result = cli("subscribers", "import", str(path), "--from", "revue", "--consent", CONSENT)
    assert result.exit_code == 1 and "from" in result.stderr and "mailchimp" in result.stderr
    assert all_subscribers(site) == []


def test_a_large_file_shows_its_progress(
    cli: Cli, site: Pulse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.cli import subscribers as command

    monkeypatch.setattr(command, "LARGE_FILE_BYTES", 100)
    monkeypatch.setattr(command, "PROGRESS_EVERY_ROWS", 10)
    monkeypatch.setattr(command, "PROGRESS_INTERVAL", 0.0)
    path = tmp_path / "subscribers.csv"
    lines = [f"u{i},p{i}@example.com,P,{{}},enabled,,\n" for i in range(40)]
    path.write_text("uuid,email,name,attributes,status,created_at,updated_at\n" + "".join(lines))
    result = cli("subscribers", "import", str(path), "--from", "listmonk", "--consent", CONSENT)
    assert result.exit_code == 0, result.stderr
    assert "subscribers.csv: 10 rows read" in result.stdout
    assert "subscribers.csv: 40 rows read" in result.stdout and "imported 40 new" in result.stdout
