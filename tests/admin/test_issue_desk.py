"""Preview, test send, and approve / hold / send now, each behind a confirmation step.

"Send now" is recorded on the issue; the worker or the scheduler's tick sends it.
"""

from __future__ import annotations

import threading
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pipeline.config import PLACEHOLDER_POSTAL_ADDRESS
from pipeline.content.queue import add_snippet
from pipeline.delivery.models import Delivery
from pipeline.issues.models import Issue, IssueStatus
from pipeline.scheduler.runner import make_job
from pipeline.workflow import weekly
from pulse_core.database import transaction
from subscribers.service import add_subscriber
from tests.admin.conftest import Desk, csrf_of

WEEK = "2026-W48"


@pytest.fixture
def queued(desk: Desk) -> Desk:
    with transaction(desk.pulse.db.sessions) as session:
        add_snippet(session, section="role-insights", title="Discovery beats demos",
                    body="Ask *why* twice.")  # fmt: skip
        for n in range(3):
            add_subscriber(session, f"reader{n}@example.com", consent_text="t", consent_source="t")
    return desk


def _issue(desk: Desk) -> Issue | None:
    with transaction(desk.pulse.db.sessions) as session:
        return session.scalar(select(Issue).where(Issue.week_key == WEEK))


def _deliveries(desk: Desk) -> int:
    with transaction(desk.pulse.db.sessions) as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def _messages(folder: Path) -> list[object]:
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def test_preview_shows_a_draft_without_building_it(queued: Desk) -> None:
    client = queued.editor()
    page = client.get("/admin/issue", params={"week": WEEK})
    assert page.status_code == 200
    assert "draft from the queue" in page.text
    assert "Discovery beats demos" in page.text  # the text part, beside the iframes
    assert 'id="preview-phone"' in page.text and 'width="375"' in page.text
    html = client.get("/admin/issue/render.html", params={"week": WEEK})
    assert "Discovery beats demos" in html.text
    assert "sandbox" in html.headers["content-security-policy"]
    assert _issue(queued) is None


def test_the_dark_toggle_forces_the_emails_dark_styles(queued: Desk) -> None:
    client = queued.editor()
    light = client.get("/admin/issue/render.html", params={"week": WEEK, "scheme": "light"}).text
    dark = client.get("/admin/issue/render.html", params={"week": WEEK, "scheme": "dark"}).text
    assert "prefers-color-scheme" not in light and "prefers-color-scheme" not in dark
    assert "@media all" in dark and "@media not all" in light
    assert 'content="dark"' in dark and 'content="light"' in light


def test_bad_week_is_a_clear_400(queued: Desk) -> None:
    response = queued.editor().get("/admin/issue", params={"week": "2026-W99"})
    assert response.status_code == 400
    assert "2026 has no week 99" in response.text


def test_subject_and_preheader_are_edited_by_building(queued: Desk) -> None:
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    response = client.post(
        "/admin/issue/build",
        data={"csrf_token": csrf, "week": WEEK, "subject": "Hand-written subject",
              "preheader": "A better preheader"},
    )  # fmt: skip
    assert response.status_code == 200
    issue = _issue(queued)
    assert issue is not None
    assert issue.subject == "Hand-written subject"
    assert "A better preheader" in issue.html
    bad = client.post(
        "/admin/issue/build",
        data={"csrf_token": csrf, "week": WEEK, "subject": "x" * 201, "preheader": ""},
    )
    assert bad.status_code == 400
    assert "subject:" in bad.text
    assert _issue(queued).subject == "Hand-written subject"  # type: ignore[union-attr]


def test_test_send_goes_to_the_editor_marked_test_and_counts_for_nothing(queued: Desk) -> None:
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    response = client.post("/admin/issue/test-send", data={"csrf_token": csrf, "week": WEEK})
    assert response.status_code == 200
    assert "Test sent to 1 of 1: ed@example.com" in response.text
    [message] = _messages(queued.pulse.settings.outbox_dir / f"{WEEK}-test")
    assert message["To"] == "ed@example.com"  # type: ignore[index]
    assert message["Subject"].startswith("[TEST] AISE Pulse Brief #1")  # type: ignore[index]
    assert _deliveries(queued) == 0
    assert _issue(queued) is None  # a draft was sent; nothing was built or marked


def test_test_send_uses_the_configured_seed_list(
    queued: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.config import load_settings

    monkeypatch.setenv("PULSE_TEST_SEND_ADDRESSES", "seed1@example.com, seed2@example.org")
    queued.pulse.settings = load_settings()
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    client.post("/admin/issue/test-send", data={"csrf_token": csrf, "week": WEEK})
    messages = _messages(queued.pulse.settings.outbox_dir / f"{WEEK}-test")
    assert sorted(m["To"] for m in messages) == [  # type: ignore[index]
        "seed1@example.com",
        "seed2@example.org",
    ]


def test_decisions_need_confirmation_first(queued: Desk) -> None:
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    unconfirmed = client.post(
        "/admin/issue/approve", data={"csrf_token": csrf, "week": WEEK}, follow_redirects=False
    )
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/admin/issue/confirm/approve?week={WEEK}"
    assert _issue(queued) is None
    confirm_page = client.get(unconfirmed.headers["location"])
    assert 'name="confirm" value="yes"' in confirm_page.text


def test_approve_then_hold_then_approve_again(queued: Desk) -> None:
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    yes = {"csrf_token": csrf, "week": WEEK, "confirm": "yes"}
    assert client.post("/admin/issue/approve", data=yes).status_code == 200
    issue = _issue(queued)
    assert issue is not None and issue.approved_by == "ed@example.com"
    no_reason = client.post("/admin/issue/hold", data=yes)
    assert no_reason.status_code == 400
    assert "reason:" in no_reason.text
    client.post("/admin/issue/hold", data={**yes, "reason": "waiting for legal"})
    held = _issue(queued)
    assert held is not None and held.status is IssueStatus.HELD
    assert held.approved_at is None
    refused = client.post("/admin/issue/send", data=yes)
    assert refused.status_code == 400
    assert "approve it first" in refused.text
    client.post("/admin/issue/approve", data=yes)
    again = _issue(queued)
    assert again is not None and again.status is IssueStatus.BUILT


def test_send_now_is_a_request_the_worker_sends_each_subscriber_once(
    queued: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    senders: list[str] = []
    real_begin = weekly.begin_send

    def recording_begin(*args: Any, **kwargs: Any) -> Any:
        senders.append(threading.current_thread().name)
        return real_begin(*args, **kwargs)

    monkeypatch.setattr(weekly, "begin_send", recording_begin)
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    yes = {"csrf_token": csrf, "week": WEEK, "confirm": "yes"}
    answer = client.post("/admin/issue/send", data=yes)
    assert answer.status_code == 200 and "queued to send now" in answer.text
    # The web process recorded the request and sent nothing, in no thread of its own.
    requested = _issue(queued)
    assert requested is not None and requested.status is IssueStatus.BUILT
    assert requested.send_requested_at is not None
    assert requested.approved_by == "ed@example.com"
    assert requested.status_decision == "send-now"
    assert senders == [] and _deliveries(queued) == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("send-")]
    assert "send now requested" in client.get(f"/admin?week={WEEK}").text
    queued.run_requested_sends()  # what `pulse worker` does
    assert senders == [threading.current_thread().name]
    issue = _issue(queued)
    assert issue is not None and issue.status is IssueStatus.SENT
    assert _deliveries(queued) == 3
    assert len(_messages(queued.pulse.settings.outbox_dir / WEEK)) == 3
    second = client.post("/admin/issue/send", data=yes)
    assert second.status_code == 400
    assert "will not be sent again" in second.text
    queued.run_requested_sends()
    assert len(_messages(queued.pulse.settings.outbox_dir / WEEK)) == 3
    dashboard = client.get("/admin").text
    assert "<td>3</td>" in dashboard  # the sent count of the last issue


def test_the_schedulers_tick_starts_a_desk_send_now(queued: Desk) -> None:
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    client.post("/admin/issue/send", data={"csrf_token": csrf, "week": WEEK, "confirm": "yes"})
    job = make_job(queued.pulse, threading.Event())
    [outcome] = job.send_requested()
    assert outcome.action == "sent" and outcome.week == WEEK
    assert len(_messages(queued.pulse.settings.outbox_dir / WEEK)) == 3
    assert job.send_requested() == []  # a request is sent once


def test_a_send_now_that_fails_lint_is_refused_on_the_desk(
    queued: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    placeholder = queued.pulse.settings.model_copy(
        update={"postal_address": PLACEHOLDER_POSTAL_ADDRESS}
    )
    monkeypatch.setattr(queued.pulse, "settings", placeholder)
    refused = client.post(
        "/admin/issue/send", data={"csrf_token": csrf, "week": WEEK, "confirm": "yes"}
    )
    assert refused.status_code == 400 and "fails lint, not sending" in refused.text
    assert _issue(queued) is None  # nothing changed: not even the build stays


def test_a_requested_send_the_worker_refuses_is_withdrawn_not_retried(
    queued: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = queued.editor()
    csrf = csrf_of(client, "/admin/issue")
    client.post("/admin/issue/send", data={"csrf_token": csrf, "week": WEEK, "confirm": "yes"})
    placeholder = queued.pulse.settings.model_copy(
        update={"postal_address": PLACEHOLDER_POSTAL_ADDRESS}
    )
    monkeypatch.setattr(queued.pulse, "settings", placeholder)  # lint fails from now on
    queued.run_requested_sends()
    issue = _issue(queued)
    assert issue is not None and issue.status is IssueStatus.BUILT
    assert issue.send_requested_at is None
    assert (issue.status_reason or "").startswith("send now refused: issue 2026-W48 fails lint")
    assert _deliveries(queued) == 0
