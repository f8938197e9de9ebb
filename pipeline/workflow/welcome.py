"""The welcome series' use cases: a pass (the scheduler and ``pulse lifecycle run``) and status.

The series is derived from each reader's confirmation time, so nothing in signup changes
for it: a pass finds whoever a step is due for at ``now``. Every function takes ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.delivery.liveness import ProcessLiveness, process_liveness
from pipeline.delivery.message import build_mime
from pipeline.errors import NotFoundError
from pipeline.resources import templates_dir
from pipeline.stage_configs import welcome_config
from pipeline.welcome.archive import best_issues, latest_issue
from pipeline.welcome.mailer import StepMailer
from pipeline.welcome.outbox import ClaimedSend, lease_owners
from pipeline.welcome.quiet import quiet_reason
from pipeline.welcome.run import PassReport, SeriesConfig, SeriesRun, run_pass
from pipeline.welcome.status import ReaderStep, StepStatus, reader_status, series_status
from pipeline.welcome.templates import SeriesContent, check_templates, render_step
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.addresses import email_key
from subscribers.models import Subscriber

# The reader previews are addressed to, as for the issue's (delivery/compose.py).
SAMPLE = ClaimedSend(send_id=0, subscriber_id=0, email="reader@example.com", first_name="Alex")


def series_config(pulse: Pulse) -> SeriesConfig:
    """The series as configured, its templates checked (:class:`ConfigError` if not)."""
    config = welcome_config(pulse.settings, pulse.identity, pulse.footer)
    check_templates(templates_dir(), config.steps)
    return config


def _content(pulse: Pulse) -> Callable[[], SeriesContent]:
    base_url = pulse.settings.base_url

    def content() -> SeriesContent:
        with transaction(pulse.db.sessions) as session:
            return SeriesContent(
                list_name=pulse.identity.list_name,
                base_url=base_url,
                best_issues=tuple(best_issues(session, base_url)),
                latest_issue=latest_issue(session, base_url),
            )

    return content


def _run(pulse: Pulse, config: SeriesConfig, liveness: ProcessLiveness) -> SeriesRun:
    def dead_owners(session: Session) -> set[str]:
        return liveness.dead_among(session, lease_owners(session))

    return SeriesRun(
        sessions=pulse.db.sessions,
        config=config,
        templates=templates_dir(),
        signer=pulse.signer,
        provider=pulse.provider,
        content=_content(pulse),
        owner=liveness.owner,
        dead_owners=dead_owners,
    )


def run_welcome_series(pulse: Pulse, now: datetime) -> PassReport:
    """One pass: every step due at ``now`` goes out, unless it is the weekly issue's hour."""
    config = series_config(pulse)
    if not config.enabled:
        return PassReport(deferred="the series is off (PULSE_WELCOME_SERIES is empty)")
    with transaction(pulse.db.sessions) as session:
        quiet = quiet_reason(session, pulse.schedule, now)
    if quiet:
        return PassReport(deferred=quiet)
    with process_liveness(pulse.db.engine) as liveness:
        return run_pass(_run(pulse, config, liveness), now)


@dataclass(frozen=True)
class SeriesOverview:
    """What ``pulse lifecycle status`` prints."""

    steps: list[StepStatus]
    quiet: str | None


def welcome_status(pulse: Pulse, now: datetime) -> SeriesOverview:
    config = series_config(pulse)
    with transaction(pulse.db.sessions) as session:
        return SeriesOverview(
            steps=series_status(session, config.steps, now),
            quiet=quiet_reason(session, pulse.schedule, now),
        )


def reader_welcome_status(pulse: Pulse, email: str, now: datetime) -> list[ReaderStep]:
    """Each step for the subscriber with this address (:class:`NotFoundError` if none)."""
    config = series_config(pulse)
    with transaction(pulse.db.sessions) as session:
        subscriber = session.scalar(
            select(Subscriber).where(Subscriber.email_key == email_key(email))
        )
        if subscriber is None:
            raise NotFoundError(f"no subscriber {email}")
        return reader_status(session, config.steps, subscriber, now)


@dataclass(frozen=True)
class StepPreview:
    """A step as the sample reader gets it: what ``pulse lifecycle preview`` writes."""

    step: str
    subject: str
    html: str
    text: str
    eml: bytes


def preview_series(pulse: Pulse) -> list[StepPreview]:
    """Every step rendered for the sample reader (no real subscriber, nothing sent)."""
    config = series_config(pulse)
    content = _content(pulse)()
    previews = []
    for step in config.steps:
        email = render_step(templates_dir(), step, content, config.footer)
        mailer = StepMailer(email, config.identity, pulse.signer)
        batch = mailer.batch([SAMPLE])
        recipient = batch.recipients[0]
        previews.append(
            StepPreview(
                step=step.key,
                subject=email.subject,
                html=batch.html_for(recipient),
                text=batch.text_for(recipient),
                eml=build_mime(batch, recipient).as_bytes(),
            )
        )
    return previews
