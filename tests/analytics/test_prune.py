"""``pulse db prune``: old, finished issues lose their per-recipient rows, nothing else.

On a populated database (both backends): a week sent 200 days ago with clicks, opens,
bounces and a complaint, an interrupted send just as old, and provider events that name
no delivery. The report must read the same before and after; suppressions, subscribers and
the unfinished send must be untouched; a pruned issue can never be sent again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from pipeline.admin.stats import issue_counts
from pipeline.analytics.models import Engagement
from pipeline.analytics.retention import MINIMUM_AGE, parse_age, prune
from pipeline.analytics.summary import summarise
from pipeline.delivery.models import Delivery
from pipeline.delivery.outbox import create_deliveries
from pipeline.errors import IssueError, ValidationError
from pipeline.events.models import ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.policy import apply_events
from pipeline.events.providers import SOURCES
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow.retention import prune_older_than
from pulse_core.database import transaction, utcnow
from subscribers.history import SubscriberChange
from subscribers.models import Subscriber
from subscribers.suppression import Suppression
from tests.analytics.conftest import WEEK, SentIssue, click_urls
from tests.analytics.test_privacy_and_reports import human_click
from tests.conftest import Cli, MakePulse
from tests.events.conftest import fixture
from tests.harness.seed import build_seeded_week

OLD = timedelta(days=200)
UNFINISHED = "2026-W49"


def count(pulse: Pulse, model: type) -> int:
    with pulse.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def event(provider: str, name: str, **changes: object) -> NormalisedEvent:
    [parsed] = SOURCES[provider].parse(fixture(provider, name))
    return replace(parsed, **changes)  # type: ignore[arg-type]


def populate(sent: SentIssue) -> None:
    """Clicks, provider events and an old interrupted send, all 200 days back."""
    pulse = sent.pulse
    mails = list(sent.mails().values())
    human_click(sent, click_urls(mails[0])[0])
    human_click(sent, click_urls(mails[1])[1])
    with transaction(pulse.db.sessions) as session:
        rows = session.execute(
            select(Delivery.id, Subscriber.email)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .order_by(Delivery.id)
        ).all()
    events = [
        event("postmark", "delivery", event_key=f"d{i}", recipient=email, provider_message_id=None)
        for i, (_, email) in enumerate(rows)
    ]
    events += [
        event("postmark", "hard_bounce", recipient=rows[3][1], provider_message_id=None),
        event("ses", "complaint", recipient=rows[4][1], provider_message_id=None),
        event("postmark", "hard_bounce", event_key="stranger", recipient="gone@example.net"),
    ]
    with transaction(pulse.db.sessions) as session:
        apply_events(session, events, pulse.event_policy)
    build_seeded_week(pulse, 6, UNFINISHED)
    long_ago = utcnow() - OLD
    with transaction(pulse.db.sessions) as session:
        session.execute(update(Delivery).values(sent_at=long_ago))
        session.execute(update(Issue).values(send_started_at=long_ago))
        session.execute(update(Engagement).values(at=long_ago + timedelta(hours=3)))
        session.execute(update(ProviderEvent).values(received_at=long_ago))
        unfinished = session.scalar(select(Issue).where(Issue.week_key == UNFINISHED))
        assert unfinished is not None
        unfinished.status = IssueStatus.SENDING  # interrupted: it may still continue
        create_deliveries(session, unfinished.id)


def deliveries_of(pulse: Pulse, week: str) -> int:
    with pulse.db.sessions() as session:
        query = (
            select(func.count())
            .select_from(Delivery)
            .join(Issue, Issue.id == Delivery.issue_id)
            .where(Issue.week_key == week)
        )
        return int(session.scalar(query) or 0)


def test_prune_keeps_the_report_and_everything_exactly_once_needs(
    sent: SentIssue, cli: Cli
) -> None:
    pulse = sent.pulse
    populate(sent)
    before = [cli("issue", "report", "--week", WEEK, "--format", f).stdout for f in FORMATS]
    with pulse.db.sessions() as session:
        issue_id = session.scalar(select(Issue.id).where(Issue.week_key == WEEK))
        assert issue_id is not None
        counts_before = issue_counts(session, issue_id)
    kept = {m: count(pulse, m) for m in (Suppression, Subscriber, SubscriberChange)}
    unfinished = deliveries_of(pulse, UNFINISHED)
    assert unfinished == 4  # the readers still on the list
    assert counts_before["bounced"] == 1 and counts_before["complained"] == 1

    dry = cli("db", "prune", "--older-than", "180d", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would delete 6 deliveries" in dry.stdout and WEEK in dry.stdout
    assert deliveries_of(pulse, WEEK) == 6 and count(pulse, Engagement) == 2

    result = cli("db", "prune", "--older-than", "26w")
    assert result.exit_code == 0, result.stderr
    assert "deleted 6 deliveries, 8 provider events, 2 engagements, 1 unlinked" in result.stdout
    assert deliveries_of(pulse, WEEK) == 0 and count(pulse, Engagement) == 0
    assert count(pulse, ProviderEvent) == 0
    # The interrupted send keeps every row; suppressions, readers and history stay.
    assert deliveries_of(pulse, UNFINISHED) == unfinished
    assert {m: count(pulse, m) for m in kept} == kept
    after = [cli("issue", "report", "--week", WEEK, "--format", f).stdout for f in FORMATS]
    assert after == before
    with pulse.db.sessions() as session:
        assert issue_counts(session, issue_id) == counts_before
    # Again: nothing left to do, nothing changes.
    again = cli("db", "prune", "--older-than", "180d")
    assert "deleted 0 deliveries" in again.stdout
    assert [cli("issue", "report", "--week", WEEK, "--format", f).stdout for f in FORMATS] == before


FORMATS = ("json", "table", "csv")


def test_a_pruned_issue_is_never_sent_again(sent: SentIssue, cli: Cli) -> None:
    populate(sent)
    assert cli("db", "prune", "--older-than", "180d").exit_code == 0
    with transaction(sent.pulse.db.sessions) as session:
        issue_id = session.scalar(select(Issue.id).where(Issue.week_key == WEEK))
        assert issue_id is not None
        with pytest.raises(IssueError, match="pruned"):
            create_deliveries(session, issue_id)


def test_pruning_goes_in_chunks_and_finishes_what_a_crash_left(sent: SentIssue) -> None:
    pulse = sent.pulse
    populate(sent)
    now = utcnow()
    cutoff = now - timedelta(days=180)
    with transaction(pulse.db.sessions) as session:
        # A prune that wrote the summary and stopped: rows are still there.
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None
        summarise(session, issue, now)
    report = prune(pulse.db.sessions, cutoff, now, chunk=2)
    assert report.issues == [WEEK] and report.deliveries == 6
    assert deliveries_of(pulse, WEEK) == 0 and deliveries_of(pulse, UNFINISHED) == 4


@pytest.mark.parametrize(
    ("age", "message"),
    [
        ("10d", "too recent"),
        ("4w", "too recent"),
        ("180", "not an age"),
        ("180days", "not an age"),
        ("-5d", "not an age"),
        ("1e9d", "not an age"),
        ("99999999d", "not an age"),
    ],
)
def test_prune_refuses_ages_it_cannot_honour(
    sent: SentIssue, cli: Cli, age: str, message: str
) -> None:
    result = cli("db", "prune", "--older-than", age)
    assert result.exit_code != 0
    assert message in result.stderr + result.stdout
    assert deliveries_of(sent.pulse, WEEK) == 6


def test_prune_refuses_an_age_inside_the_soft_bounce_window(make_pulse: MakePulse) -> None:
    pulse = make_pulse(soft_bounce_window_days=90)
    with pytest.raises(ValidationError, match="SOFT_BOUNCE_WINDOW"):
        prune_older_than(pulse, timedelta(days=60))


@given(st.text(max_size=30))
def test_any_age_text_parses_to_a_safe_age_or_a_clear_refusal(text: str) -> None:
    try:
        age = parse_age(text)
    except ValueError as err:
        assert str(err)
    else:
        assert age >= MINIMUM_AGE


@given(st.integers(min_value=30, max_value=99_999))
def test_day_ages_mean_what_they_say(days: int) -> None:
    assert parse_age(f"{days}d") == timedelta(days=days)
    assert parse_age(f" {days}D ") == timedelta(days=days)


def test_the_scheduler_prunes_daily_only_when_configured(
    sent: SentIssue, make_pulse: MakePulse
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from pipeline.scheduler.retention import JOB_ID, add_daily_prune, daily_prune

    populate(sent)
    off, on = BackgroundScheduler(), BackgroundScheduler()
    add_daily_prune(off, sent.pulse)
    configured = make_pulse(prune_older_than="26w")
    add_daily_prune(on, configured)
    assert off.get_job(JOB_ID) is None and on.get_job(JOB_ID) is not None
    daily_prune(sent.pulse)  # not configured: nothing happens
    assert deliveries_of(sent.pulse, WEEK) == 6
    daily_prune(configured)
    assert deliveries_of(sent.pulse, WEEK) == 0 and deliveries_of(sent.pulse, UNFINISHED) == 4
