"""The week's issue: which week, build, draft, send and preview it.

Shared by the CLI, the demo, the scheduler, the worker and the desk, so each of these
steps is written once; every one builds with the configured rules (PULSE_SECTION_LIMITS,
PULSE_SALARY_MIN_POINTS) and sends through the same send lock.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from pipeline.content.validate import required_text
from pipeline.delivery.compose import IssueMailer
from pipeline.delivery.engine import SendReport, begin_send, run_send
from pipeline.delivery.liveness import ProcessLiveness
from pipeline.delivery.message import build_mime
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.send_lock import send_lock
from pipeline.errors import ValidationError
from pipeline.issues.build import BuildResult, build_issue, draft_issue, find_issue, get_issue
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.variant_store import VariantBody, stored_variants
from pipeline.issues.variants import DEFAULT_KEY, VariantKey
from pipeline.stage_configs import send_options
from pipeline.weeks import current_week, parse_week
from pipeline.wiring import Pulse
from pipeline.workflow.check import refuse_unlinted_send
from pulse_core.database import transaction, utcnow


def resolve_week(pulse: Pulse, week: str | None, now: datetime | None = None) -> str:
    """The week named on the command line, or this ISO week in the newsletter's time zone."""
    if week:
        return parse_week(week)
    moment = (now or utcnow()).astimezone(pulse.settings.zone)
    return current_week(moment)


def build_in(
    pulse: Pulse,
    session: Session,
    week: str,
    *,
    rebuild: bool = False,
    subject: str | None = None,
    preheader: str | None = None,
) -> BuildResult:
    """Build (or with ``rebuild``, re-render) the week's issue inside ``session``."""
    return build_issue(
        session,
        week=week,
        footer=pulse.footer,
        rebuild=rebuild,
        subject=subject,
        preheader=preheader,
        rules=pulse.issue_rules,
    )


def build_week(
    pulse: Pulse,
    week: str,
    *,
    rebuild: bool = False,
    subject: str | None = None,
    preheader: str | None = None,
) -> BuildResult:
    """Build the week's issue in its own transaction (the same issue if it exists)."""
    with transaction(pulse.db.sessions) as session:
        return build_in(pulse, session, week, rebuild=rebuild, subject=subject, preheader=preheader)


def ensure_built(pulse: Pulse, session: Session, week: str) -> Issue:
    """The week's issue, built from the queue first if there is none yet."""
    return build_in(pulse, session, week).issue


def draft_week(pulse: Pulse, session: Session, week: str) -> Issue:
    """The issue the queue would make now, rendered but not stored (nothing is written)."""
    issue, _view = draft_issue(
        session, week=week, footer=pulse.footer, rules=pulse.issue_rules
    )
    return issue


def current_issue(pulse: Pulse, session: Session, week: str) -> tuple[Issue, bool]:
    """The built issue if there is one, else the draft; and whether it is built."""
    issue = find_issue(session, week)
    if issue is not None:
        return issue, True
    return draft_week(pulse, session, week), False


def build_with_headline(
    pulse: Pulse, session: Session, week: str, subject: str, preheader: str
) -> Issue:
    """Build (or rebuild) the week from the queue with this subject and preheader.

    Empty fields fall back to the defaults. Rebuilding withdraws any approval: what was
    approved is no longer what will be sent.
    """
    clean_subject = required_text(subject, "subject", max_length=200) if subject.strip() else None
    clean_preheader = (
        required_text(preheader, "preheader", max_length=300) if preheader.strip() else None
    )
    for name, value in (("subject", clean_subject), ("preheader", clean_preheader)):
        if value is not None and "\n" in value:
            raise ValidationError(name, "must be one line")
    existing = find_issue(session, week)
    issue = build_in(
        pulse,
        session,
        week,
        rebuild=existing is not None,
        subject=clean_subject,
        preheader=clean_preheader,
    ).issue
    issue.approved_at = None
    issue.approved_by = None
    issue.send_requested_at = None
    session.flush()
    return issue


def send_week(
    pulse: Pulse,
    week: str,
    *,
    on_progress: Callable[[Counter[str]], None] | None = None,
    stop: threading.Event | None = None,
    resume: bool = False,
    issue: Issue | None = None,
) -> SendReport:
    """Send (or continue sending) the week's issue; a sent issue sends nobody again.

    The issue's send lock makes this the only process sending the week: a second caller
    gets :class:`SendInProgress` instead of a second send. The lock lives as long as this
    process's liveness lock, so after a crash the next caller takes it over at once. A
    paused send continues only with ``resume=True`` (``pulse issue resume``). A caller that
    has just loaded the issue passes it as ``issue``, so it is not loaded again.
    """
    if issue is None:
        with transaction(pulse.db.sessions) as session:
            issue = get_issue(session, week)
    if issue.status is IssueStatus.SENT:
        return SendReport(week_key=week, finished=True)
    refuse_unlinted_send(pulse, issue)
    provider = pulse.provider()  # first, so a missing credential stops before anything changes
    try:
        with pulse.liveness() as liveness:
            return send_with(
                pulse, issue, provider, liveness, on_progress=on_progress, stop=stop, resume=resume
            )
    finally:
        provider.close()


def send_with(
    pulse: Pulse,
    issue: Issue,
    provider: Provider,
    liveness: ProcessLiveness,
    *,
    on_progress: Callable[[Counter[str]], None] | None = None,
    stop: threading.Event | None = None,
    resume: bool = False,
) -> SendReport:
    """Take the issue's send lock, begin (or continue) its send and run it to its end.

    For a caller that already holds a provider and a liveness lock (``send_week``, the
    worker); the caller has checked lint (:func:`refuse_unlinted_send`).
    """
    week = issue.week_key
    with send_lock(pulse.db.sessions, issue.id, week, liveness):
        sending, created = begin_send(
            pulse.db.sessions, week, resume=resume, waves=pulse.schedule.wave_plan(week)
        )
        if sending.status is IssueStatus.SENT:
            return SendReport(week_key=week, finished=True)
        report = run_send(
            pulse.db.sessions,
            sending,
            provider,
            pulse.identity,
            pulse.signer,
            options=send_options(pulse.settings, provider),
            on_progress=on_progress,
            stop=stop,
            liveness=liveness,
        )
    report.created = created
    return report


def sample_message(pulse: Pulse, week: str) -> bytes:
    """The week's issue as the sample reader would receive it, serialised (for spam checks)."""
    with transaction(pulse.db.sessions) as session:
        issue: Issue = get_issue(session, week)
    batch, recipient = IssueMailer(issue, pulse.identity, pulse.signer).sample()
    return build_mime(batch, recipient).as_bytes()


def write_preview(
    pulse: Pulse, week: str, out: Path, variant: VariantKey = DEFAULT_KEY
) -> list[Path]:
    """Write issue.mjml, issue.html, issue.txt and a sample issue.eml into ``out``.

    ``variant`` picks one of the issue's tailored variants (the default issue otherwise).
    """
    with transaction(pulse.db.sessions) as session:
        issue: Issue = get_issue(session, week)
        stored = {row.key: row for row in stored_variants(session, issue.id)}
    out.mkdir(parents=True, exist_ok=True)
    bodies = {key: VariantBody(row.html, row.text) for key, row in stored.items()}
    mailer = IssueMailer(issue, pulse.identity, pulse.signer, bodies)
    batch, recipient = mailer.sample(variant.stored)
    chosen = stored.get(variant.text)
    files = {
        "issue.mjml": chosen.mjml if chosen is not None else issue.mjml,
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
