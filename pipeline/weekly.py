"""The weekly job's steps, shared by the CLI, the demo, the scheduler and the admin desk."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from pipeline.config import Settings
from pipeline.delivery.breaker import BreakerThresholds
from pipeline.delivery.compose import IssueMailer
from pipeline.delivery.engine import SendOptions, SendReport, begin_send, run_send
from pipeline.delivery.liveness import process_liveness
from pipeline.delivery.message import build_mime
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.ratelimit import windows_for
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.send_lock import send_lock
from pipeline.errors import IssueError
from pipeline.events.send_health import event_figures
from pipeline.issues.build import BuildResult, build_issue, get_issue
from pipeline.issues.lint import lint_issue
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.slots import IssueRules
from pipeline.weeks import current_week, parse_week
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from subscribers.suppression import suppression_keys


def resolve_week(pulse: Pulse, week: str | None, now: datetime | None = None) -> str:
    """The week named on the command line, or this ISO week in the newsletter's time zone."""
    if week:
        return parse_week(week)
    moment = (now or utcnow()).astimezone(pulse.settings.zone)
    return current_week(moment)


def build_week(
    pulse: Pulse,
    week: str,
    *,
    rebuild: bool = False,
    subject: str | None = None,
    preheader: str | None = None,
) -> BuildResult:
    with transaction(pulse.db.sessions) as session:
        return build_issue(
            session,
            week=week,
            footer=pulse.footer,
            rebuild=rebuild,
            subject=subject,
            preheader=preheader,
            rules=IssueRules.from_settings(pulse.settings),
        )


def lint_week(pulse: Pulse, week: str) -> list[str]:
    """Lint problems of the week's built issue (empty when it may be sent)."""
    with pulse.db.sessions() as session:
        return lint_issue(get_issue(session, week), settings=pulse.settings)


def refuse_unlinted_send(pulse: Pulse, week: str) -> None:
    """Raise before a send begins if the issue fails lint; a send under way is not re-judged."""
    with pulse.db.sessions() as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == week))
        if issue is None or issue.status not in (IssueStatus.BUILT, IssueStatus.HELD):
            return
        problems = lint_issue(issue, settings=pulse.settings)
    if problems:
        listed = "; ".join(problems)
        raise IssueError(f"issue {week} fails lint, not sending: {listed}")


def send_options(settings: Settings, provider: Provider) -> SendOptions:
    """The engine's knobs from settings; the provider's default rate applies when unset."""
    per_second = settings.send_rate or provider.capabilities.default_rate
    return SendOptions(
        batch_size=settings.batch_size,
        concurrency=settings.send_concurrency,
        lease_seconds=settings.send_lease_seconds,
        rate_windows=windows_for(per_second, settings.send_hourly_cap, settings.send_daily_cap),
        per_second=per_second,
        breaker=BreakerThresholds(
            hard_bounce_rate=settings.bounce_pause_rate,
            complaint_rate=settings.complaint_pause_rate,
            min_sent=settings.breaker_min_sent,
        ),
        suppression_key=suppression_keys(settings.secret_keys())[0],
        retry=RetryPolicy(
            request_retries=settings.send_retries,
            backoff_base=settings.send_backoff_base,
            backoff_max=settings.send_backoff_max,
            pause_after_failed_batches=settings.pause_after_failed_batches,
            first_delay=settings.retry_first_delay,
            max_delay=settings.retry_max_delay,
            give_up_after=settings.retry_give_up_after,
            max_retries=settings.retry_max_retries,
        ),
        idle_wait=settings.send_idle_wait,
        read_events=event_figures,
    )


def send_week(
    pulse: Pulse,
    week: str,
    *,
    on_progress: Callable[[Counter[str]], None] | None = None,
    stop: threading.Event | None = None,
    resume: bool = False,
) -> SendReport:
    """Send (or continue sending) the week's issue; a sent issue sends nobody again.

    The issue's send lock makes this the only process sending the week: a second caller
    gets :class:`SendInProgress` instead of a second send. The lock lives as long as this
    process's liveness lock, so after a crash the next caller takes it over at once. A
    paused send continues only with ``resume=True`` (``pulse issue resume``).
    """
    with transaction(pulse.db.sessions) as session:
        found = get_issue(session, week)
    if found.status is IssueStatus.SENT:
        return SendReport(week_key=week, finished=True)
    refuse_unlinted_send(pulse, week)
    provider = pulse.provider()  # first, so a missing credential stops before anything changes
    try:
        with (
            process_liveness(pulse.db.engine) as liveness,
            send_lock(pulse.db.sessions, found.id, week, liveness),
        ):
            issue, created = begin_send(pulse.db.sessions, week, resume=resume)
            if issue.status is IssueStatus.SENT:
                return SendReport(week_key=week, finished=True)
            report = run_send(
                pulse.db.sessions,
                issue,
                provider,
                pulse.identity,
                pulse.signer,
                options=send_options(pulse.settings, provider),
                on_progress=on_progress,
                stop=stop,
                liveness=liveness,
            )
    finally:
        provider.close()
    report.created = created
    return report


def sample_message(pulse: Pulse, week: str) -> bytes:
    """The week's issue as the sample reader would receive it, serialised (for spam checks)."""
    with transaction(pulse.db.sessions) as session:
        issue: Issue = get_issue(session, week)
    batch, recipient = IssueMailer(issue, pulse.identity, pulse.signer).sample()
    return build_mime(batch, recipient).as_bytes()


def write_preview(pulse: Pulse, week: str, out: Path) -> list[Path]:
    """Write issue.mjml, issue.html, issue.txt and a sample issue.eml into ``out``."""
    with transaction(pulse.db.sessions) as session:
        issue: Issue = get_issue(session, week)
    out.mkdir(parents=True, exist_ok=True)
    batch, recipient = IssueMailer(issue, pulse.identity, pulse.signer).sample()
    files = {
        "issue.mjml": issue.mjml,
        "issue.html": batch.html_for(recipient),
        "issue.txt": batch.text_for(recipient),
    }
    written = []
    for name, body in files.items():
        path = out / name
        path.write_text(body, encoding="utf-8")
        written.append(path)
    eml = out / "issue.eml"
    eml.write_bytes(build_mime(batch, recipient).as_bytes())
    written.append(eml)
    return written
