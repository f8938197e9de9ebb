"""The people page's import form: a platform choice, the same use case as the CLI."""

from __future__ import annotations

from pathlib import Path

from pulse_core.database import transaction
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.platforms import PLATFORMS
from subscribers.suppression import SuppressionReason, suppression_reason_of
from tests.admin.conftest import Desk, csrf_of
from tests.subscribers.platform_files import FIXTURES, mailchimp_zip

CONSENT = "Subscribed to the old newsletter, which this one continues"


def _people(desk: Desk) -> dict[str, Subscriber]:
    with transaction(desk.pulse.db.sessions) as session:
        return {s.email: s for s in session.query(Subscriber).all()}


def _post(desk: Desk, platform: str, name: str, data: bytes, **fields: str) -> str:
    client = desk.admin()
    csrf = csrf_of(client, "/admin/subscribers")
    response = client.post(
        "/admin/subscribers/import",
        data={"csrf_token": csrf, "platform": platform, "consent": CONSENT, **fields},
        files={"file": (name, data, "application/octet-stream")},
    )
    return f"{response.status_code} {response.text}"


def test_the_form_offers_every_platform_to_admins_only(desk: Desk) -> None:
    page = desk.admin().get("/admin/subscribers").text
    assert 'id="import-form"' in page
    for platform in PLATFORMS:
        assert f'<option value="{platform}"' in page
    assert 'id="import-form"' not in desk.editor().get("/admin/subscribers").text
    client = desk.editor()
    csrf = csrf_of(client, "/admin/subscribers")
    refused = client.post(
        "/admin/subscribers/import",
        data={"csrf_token": csrf, "platform": "ghost", "consent": CONSENT},
        files={"file": ("m.csv", b"email\n", "text/csv")},
    )
    assert refused.status_code == 403 and _people(desk) == {}


def test_a_mailchimp_zip_imports_with_statuses_and_a_dry_run_first(
    desk: Desk, tmp_path: Path
) -> None:
    data = mailchimp_zip(tmp_path).read_bytes()
    dry = _post(desk, "mailchimp", "members_export.zip", data, dry_run="yes")
    assert dry.startswith("200") and "Dry run, nothing changed: would have imported 2 new" in dry
    assert _people(desk) == {}
    done = _post(desk, "mailchimp", "C:\\Users\\me\\members_export.zip", data)
    assert done.startswith("200") and "Import done: imported 2 new" in done
    people = _people(desk)
    assert set(people) == {"ada@example.com", "grace@example.com"}
    assert people["ada@example.com"].status is SubscriberStatus.ACTIVE
    assert people["ada@example.com"].consent_source == "desk:import:mailchimp:members_export.zip"
    with transaction(desk.pulse.db.sessions) as session:
        keys = desk.pulse.subscribers.hash_keys
        assert suppression_reason_of(session, "cleo@example.com", keys) is SuppressionReason.BOUNCED


def test_a_bad_export_shows_the_line_and_changes_nothing(desk: Desk) -> None:
    ghost = (FIXTURES / "ghost_members.csv").read_bytes()
    wrong = _post(desk, "listmonk", "members.csv", ghost)
    assert wrong.startswith("400") and "line 1: status" in wrong and "nothing was imported" in wrong
    bad = ghost + b"9,eve@example.com,=cmd|' /C calc'!A0,,true,false,,,,,\n"
    refused = _post(desk, "ghost", "members.csv", bad)
    assert refused.startswith("400") and "line 5: first_name" in refused
    hostile = (
        b"uuid,email,name,attributes,status,created_at,updated_at\n"
        b"1,a@example.com,A,{},<script>x</script>,,\n"
    )
    escaped = _post(desk, "listmonk", "<b>subs</b>.csv", hostile)
    assert escaped.startswith("400") and "&lt;script&gt;x" in escaped and "<script>x" not in escaped
    unknown = _post(desk, "revue", "members.csv", ghost)
    assert unknown.startswith("400") and "choose the platform" in unknown
    assert _people(desk) == {}
