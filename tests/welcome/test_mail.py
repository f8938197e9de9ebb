"""What a series email is: the issue's layout and footer, compliant headers, safe merges."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.analytics.models import Engagement, EngagementKind
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.errors import ConfigError
from pipeline.issues.models import Issue, IssueStatus
from pipeline.resources import copy_templates
from pipeline.welcome.archive import best_issues
from pipeline.welcome.series import parse_series
from pipeline.welcome.templates import check_templates, read_front_matter
from pipeline.wiring import Pulse
from pipeline.workflow.welcome import run_welcome_series
from pulse_core.database import transaction
from subscribers.display import header_text_problem
from subscribers.models import Subscriber
from subscribers.service import add_subscriber
from tests.conftest import MakePulse
from tests.welcome.conftest import Clock, SeriesOutbox, confirmed_reader, far_schedule

POSTAL = "AISE Pulse Brief, 100 Example Street, Springfield, IL 62701, USA"


@pytest.mark.usefixtures("workspace")
def test_a_series_email_is_compliant_like_the_issue(
    series_pulse: Pulse, series_outbox: SeriesOutbox, at: Clock
) -> None:
    confirmed_reader(series_pulse, "ada@example.com", name="Ada")
    run_welcome_series(series_pulse, at(minutes=1))
    [message] = series_outbox.to("welcome", "ada@example.com")
    assert message["Subject"] == "Welcome to AISE Pulse Brief"
    unsubscribe = str(message["List-Unsubscribe"])
    assert "<http://127.0.0.1:8000/u/" in unsubscribe and "<mailto:" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "aise-pulse-brief." in str(message["List-Id"])
    assert str(message["Message-ID"]).startswith("<pulse.welcome.welcome.")
    assert message.get_content_type() == "multipart/alternative"
    html, text = series_outbox.html(message), series_outbox.text(message)
    for part in (html, text):
        assert POSTAL in part
        assert "/u/" in part and "/preferences/" in part
        assert "Ada" in part
    assert "%%pulse:" not in html + text
    # The issue's own head: its dark-mode styles come with the shared partial.
    assert "prefers-color-scheme: dark" in html
    assert "View this issue in your browser" not in html


@pytest.mark.usefixtures("workspace")
def test_your_role_links_to_the_readers_own_preferences(
    series_pulse: Pulse, series_outbox: SeriesOutbox, at: Clock
) -> None:
    reader = confirmed_reader(series_pulse, "ada@example.com")
    run_welcome_series(series_pulse, at(minutes=1))
    run_welcome_series(series_pulse, at(days=7, minutes=1))
    [message] = series_outbox.to("your-role", "ada@example.com")
    token = series_pulse.signer.preferences_token(reader)
    assert f"/preferences/{token}" in series_outbox.text(message)
    assert "Tell us your role" in str(message["Subject"])


@pytest.mark.usefixtures("workspace")
def test_a_hostile_stored_name_cannot_add_headers_or_markup(
    series_pulse: Pulse, series_outbox: SeriesOutbox, at: Clock
) -> None:
    reader = confirmed_reader(series_pulse, "ada@example.com")
    with transaction(series_pulse.db.sessions) as session:
        row = session.get(Subscriber, reader)
        assert row is not None
        # Written by an old path, never through the form's checks.
        row.first_name = "<script>x</script>=?utf-8?q?A=0D=0ABcc:_evil@example.net?=\r\nBcc: e@x"
    run_welcome_series(series_pulse, at(minutes=1))
    [message] = series_outbox.to("welcome", "ada@example.com")
    assert message["Bcc"] is None
    addresses = message["To"].addresses
    assert [a.addr_spec for a in addresses] == ["ada@example.com"]
    assert "<script>" not in series_outbox.html(message)


@pytest.mark.usefixtures("workspace")
def test_start_here_lists_the_issues_people_clicked_most(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        readers = [
            add_subscriber(session, f"r{n}@example.com", consent_text="t", consent_source="t")[0]
            for n in range(3)
        ]
        issues = []
        for number, week in ((1, "2026-W40"), (2, "2026-W41"), (3, "2026-W42")):
            issue = Issue(
                week_key=week,
                number=number,
                subject=f"Issue {number}",
                preheader="",
                status=IssueStatus.SENT,
                mjml="",
                html="",
                text="",
            )
            session.add(issue)
            session.flush()
            issues.append(issue)
            for reader in readers:
                session.add(
                    Delivery(issue_id=issue.id, subscriber_id=reader.id, status=DeliveryStatus.SENT)
                )
        session.flush()

        def click(issue: Issue, reader: Subscriber, machine: bool) -> None:
            delivery = (
                session.query(Delivery).filter_by(issue_id=issue.id, subscriber_id=reader.id).one()
            )
            session.add(
                Engagement(
                    kind=EngagementKind.CLICK,
                    issue_id=issue.id,
                    delivery_id=delivery.id,
                    subscriber_id=reader.id,
                    method="GET",
                    agent="test",
                    machine=machine,
                    reasons="scanner" if machine else "",
                )
            )

        for reader in readers[:2]:
            click(issues[0], reader, machine=False)  # the oldest: two readers
        for _ in range(5):
            click(issues[1], readers[0], machine=True)  # scanners only: counts for nothing
        click(issues[2], readers[2], machine=False)
        session.flush()
        found = best_issues(session, "https://news.example.com", count=3)
    assert [f.week_key for f in found] == ["2026-W40", "2026-W42", "2026-W41"]
    assert found[0].url == "https://news.example.com/issues/2026-W40"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    copy_templates(folder)
    return folder


def test_a_step_without_its_template_names_the_setting_and_file(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with pytest.raises(ConfigError) as caught:
        check_templates(folder, parse_series("welcome=0d,salary-guide=4d"))
    assert "PULSE_WELCOME_SERIES" in str(caught.value)
    assert "salary-guide.mjml" in str(caught.value)


@pytest.mark.parametrize(
    ("front", "complaint"),
    [
        ("subject: Hi\r\nBcc: evil@example.net", "line 3"),
        ("subject: =?utf-8?q?Hi=0D=0ABcc:_x?=", "encoded"),
        ("subject: Hi\nsubject: again", "given twice"),
        ("preheader: only", "no 'subject"),
        ("subject: Hi\nfrom: evil@example.net", "expected 'subject"),
        ("subject: " + "x" * 151, "1-150"),
    ],
)
def test_a_bad_front_matter_is_a_config_error_naming_file_and_line(
    tmp_path: Path, front: str, complaint: str
) -> None:
    path = tmp_path / "welcome.mjml"
    path.write_text("{#---\n" + front + "\n---#}\n<mjml></mjml>\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_front_matter(path)
    assert str(path) in str(caught.value)
    assert complaint in str(caught.value)


def test_a_template_without_front_matter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "welcome.mjml"
    path.write_text("<mjml></mjml>\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must begin with"):
        read_front_matter(path)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(subject=st.text(max_size=200))
def test_any_subject_is_refused_or_safe_for_a_header(tmp_path: Path, subject: str) -> None:
    path = tmp_path / "step.mjml"
    path.write_text("{#---\nsubject: " + subject + "\n---#}\n", encoding="utf-8", newline="")
    try:
        front = read_front_matter(path)
    except ConfigError:
        return
    assert header_text_problem(front.subject) is None
    assert "\n" not in front.subject and "\r" not in front.subject


@pytest.mark.usefixtures("workspace")
def test_an_edited_copy_of_the_templates_changes_the_email(
    make_pulse: MakePulse, tmp_path: Path, series_outbox: SeriesOutbox, at: Clock
) -> None:
    folder = _copy(tmp_path)
    welcome = folder / "email" / "series" / "welcome.mjml"
    source = welcome.read_text(encoding="utf-8")
    welcome.write_text(
        source.replace("subject: Welcome to AISE Pulse Brief", "subject: Glad you're here").replace(
            "welcome aboard", "glad to have you"
        ),
        encoding="utf-8",
    )
    pulse = make_pulse(templates_dir=folder, schedule=far_schedule(at()), timezone="UTC")
    confirmed_reader(pulse, "ada@example.com")
    run_welcome_series(pulse, at(minutes=1))
    [message] = series_outbox.to("welcome", "ada@example.com")
    assert message["Subject"] == "Glad you're here"
    assert "glad to have you" in series_outbox.html(message)
