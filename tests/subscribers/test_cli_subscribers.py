"""``pulse subscribers add|import|export|forget|list`` and suppression through them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.history import history_of
from subscribers.models import SubscriberStatus
from subscribers.suppression import Suppression
from tests.conftest import Cli, Workspace
from tests.subscribers.conftest import Outbox, all_subscribers, subscriber

CONSENT = "Signed up at the 2026 SE Summit booth"


def write(tmp_path: Path, text: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_merges_duplicates_and_records_consent_and_history(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    path = write(
        tmp_path, "Email,First_Name\nana@example.com,Ana\nANA@example.com,A\nben@example.com,\n"
    )
    result = cli("subscribers", "import", str(path), "--consent", CONSENT)
    assert result.exit_code == 0, result.stderr
    assert "imported 2 new, 0 already present, 1 duplicates in the file" in result.stdout
    again = cli("subscribers", "import", str(path), "--consent", CONSENT)
    assert "imported 0 new, 2 already present" in again.stdout
    ana = subscriber(site, "ana@example.com")
    assert ana is not None and ana.status is SubscriberStatus.ACTIVE and ana.first_name == "Ana"
    assert ana.consent_text == CONSENT and ana.consent_source == "cli:import:people.csv"
    with transaction(site.db.sessions) as session:
        assert [c.cause for c in history_of(session, ana.id)] == ["import"]


def test_import_reports_every_bad_line_and_keeps_nothing_unless_told_to_skip(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "email,first_name\nok@example.com,Ok\nnope,X\nalso@example.com,A,extra\nfine@example.com,\n",
    )
    strict = cli("subscribers", "import", str(path), "--consent", CONSENT)
    assert strict.exit_code == 1
    assert "line 3: email" in strict.stderr and "line 4: row" in strict.stderr
    assert all_subscribers(site) == []
    lenient = cli("subscribers", "import", str(path), "--consent", CONSENT, "--skip-invalid")
    assert lenient.exit_code == 0
    assert "skipped line 3: email" in lenient.stderr
    assert "imported 2 new" in lenient.stdout and "2 invalid lines" in lenient.stdout
    assert {s.email for s in all_subscribers(site)} == {"ok@example.com", "fine@example.com"}


def test_import_fatal_errors_name_the_problem_and_change_nothing(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    no_header = write(tmp_path, "address\nana@example.com\n")
    result = cli("subscribers", "import", str(no_header), "--consent", CONSENT)
    assert result.exit_code == 1 and "line 1" in result.stderr and "email" in result.stderr
    binary = tmp_path / "latin1.csv"
    binary.write_bytes(b"email\nana@example.com\n" + "zoë@example.com\n".encode("latin-1"))
    result = cli("subscribers", "import", str(binary), "--consent", CONSENT)
    assert result.exit_code == 1 and "UTF-8" in result.stderr
    missing = cli("subscribers", "import", str(tmp_path / "nope.csv"), "--consent", CONSENT)
    assert missing.exit_code == 1 and "file" in missing.stderr
    blank_consent = cli("subscribers", "import", str(no_header), "--consent", " ")
    assert blank_consent.exit_code == 1
    assert all_subscribers(site) == []


def test_forgotten_and_unsubscribed_addresses_are_not_reimported(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    cli("subscribers", "add", "cy@example.com", "--consent", CONSENT)
    cli("subscribers", "add", "dee@example.com", "--consent", CONSENT)
    forgot = cli("subscribers", "forget", "CY@example.com")
    assert forgot.exit_code == 0, forgot.stderr
    assert subscriber(site, "cy@example.com") is None
    dee = subscriber(site, "dee@example.com")
    assert dee is not None
    from subscribers.preferences import unsubscribe

    unsubscribe(site.subscribers, dee.id, cause="admin")
    path = write(tmp_path, "email\ncy@example.com\ndee@example.com\neve@example.com\n")
    result = cli("subscribers", "import", str(path), "--consent", CONSENT)
    assert "imported 1 new, 1 already present" in result.stdout and "1 suppressed" in result.stdout
    assert subscriber(site, "cy@example.com") is None
    assert subscriber(site, "dee@example.com").status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]
    refused = cli("subscribers", "add", "cy@example.com", "--consent", CONSENT)
    assert refused.exit_code == 1 and "suppression list" in refused.stderr


def test_erasure_keeps_only_a_keyed_hash(cli: Cli, site: Pulse) -> None:
    cli("subscribers", "add", "fay@example.com", "--consent", CONSENT, "--name", "Fay")
    cli("subscribers", "forget", "fay@example.com")
    export = cli("subscribers", "export")
    assert "fay@example.com" not in export.stdout and "Fay" not in export.stdout
    assert "fay" not in cli("subscribers", "list").stdout.lower().replace("erased", "")
    with transaction(site.db.sessions) as session:
        [entry] = session.query(Suppression).all()
        assert "fay" not in entry.email_hash and len(entry.email_hash) == 64
    assert cli("subscribers", "forget", "fay@example.com").exit_code == 1  # nobody left to forget


def test_suppression_survives_key_rotation(
    cli: Cli, workspace: Workspace, tmp_path: Path, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("PULSE_SECRET_KEY", "first-" + "k" * 40)
    cli("subscribers", "add", "gus@example.com", "--consent", CONSENT)
    cli("subscribers", "forget", "gus@example.com")
    monkeypatch.setenv("PULSE_SECRET_KEY", "second-" + "k" * 40)
    monkeypatch.setenv("PULSE_OLD_SECRET_KEYS", "first-" + "k" * 40)
    path = write(tmp_path, "email\ngus@example.com\n")
    assert "1 suppressed" in cli("subscribers", "import", str(path), "--consent", CONSENT).stdout


def test_export_prints_json_for_one_and_csv_for_all(cli: Cli, site: Pulse) -> None:
    cli("subscribers", "add", "hal@example.com", "--consent", CONSENT, "--name", "Hal")
    cli("subscribers", "add", "ida@example.com", "--consent", CONSENT)
    one = cli("subscribers", "export", "HAL@example.com")
    assert one.exit_code == 0, one.stderr
    record = json.loads(one.stdout)
    assert record["status"] == "active" and record["first_name"] == "Hal"
    assert record["consent"]["text"] == CONSENT and record["history"][0]["cause"] == "admin"
    rows = list(csv.DictReader(io.StringIO(cli("subscribers", "export").stdout)))
    assert [r["email"] for r in rows] == ["hal@example.com", "ida@example.com"]
    assert rows[0]["consent_text"] == CONSENT and "active (admin)" in rows[0]["history"]
    unknown = cli("subscribers", "export", "nobody@example.com")
    assert unknown.exit_code == 1 and "no subscriber" in unknown.stderr


def test_require_confirmation_adds_pending_and_mails_each_a_link(
    cli: Cli, site: Pulse, outbox: Outbox, tmp_path: Path
) -> None:
    added = cli(
        "subscribers", "add", "jo@example.com", "--consent", CONSENT, "--require-confirmation"
    )
    assert (
        added.exit_code == 0 and "pending" in added.stdout and "confirmation sent" in added.stdout
    )
    path = write(tmp_path, "email\nkim@example.com\nlee@example.com\n")
    imported = cli(
        "subscribers", "import", str(path), "--consent", CONSENT, "--require-confirmation"
    )
    assert "confirmations sent: 2" in imported.stdout
    assert {s.status for s in all_subscribers(site)} == {SubscriberStatus.PENDING}
    for address in ("jo@example.com", "kim@example.com", "lee@example.com"):
        assert "/confirm/" in outbox.link(address, "confirm")


def test_list_filters_by_status_and_names_a_bad_one(cli: Cli) -> None:
    cli("subscribers", "add", "max@example.com", "--consent", CONSENT)
    assert "max@example.com" in cli("subscribers", "list", "--status", "active").stdout
    bad = cli("subscribers", "list", "--status", "gone")
    assert bad.exit_code == 1 and "status" in bad.stderr
