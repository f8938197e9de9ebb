"""The intake use case shared by ``pulse jobs fetch``, the desk and the daily scheduler job:
fetch every source, then rebuild each unsent issue a closed job had to leave."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from pipeline import weekly
from pipeline.config import Settings
from pipeline.errors import PulseError
from pipeline.intake.fetch import IntakeConfig, SourceReport, fetch_all
from pipeline.intake.http import FetchPolicy, PoliteClient
from pipeline.intake.models import SourceKind
from pipeline.intake.roles import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, RoleRules, parse_phrases
from pipeline.issues.models import Issue
from pipeline.wiring import Pulse


def intake_config(settings: Settings) -> IntakeConfig:
    """The intake's frozen config from settings (empty role settings keep the defaults)."""
    return IntakeConfig(
        api_urls={
            SourceKind.GREENHOUSE: settings.greenhouse_api_url,
            SourceKind.LEVER: settings.lever_api_url,
            SourceKind.ASHBY: settings.ashby_api_url,
        },
        rules=RoleRules(
            include=parse_phrases(settings.jobs_include) or DEFAULT_INCLUDE,
            exclude=parse_phrases(settings.jobs_exclude) or DEFAULT_EXCLUDE,
        ),
        salary_role=settings.jobs_salary_role,
        check_pages=settings.jobs_check_pages,
    )


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        timeout=settings.jobs_http_timeout,
        attempts=settings.jobs_http_attempts,
        backoff=settings.jobs_http_backoff,
        backoff_max=max(settings.jobs_http_backoff * 8, 1.0),
        user_agent=f"AISE-Pulse-Brief/1.0 (+{settings.base_url})",
    )


@dataclass
class IntakeOutcome:
    reports: list[SourceReport]
    rebuilt: list[str] = field(default_factory=list)
    rebuild_failed: dict[str, str] = field(default_factory=dict)
    requests: int = 0


def run_intake(pulse: Pulse, now: datetime | None = None) -> IntakeOutcome:
    """Fetch every source once and take closed jobs out of the unsent issues."""
    client = PoliteClient(fetch_policy(pulse.settings))
    try:
        reports = fetch_all(pulse.db.sessions, intake_config(pulse.settings), client, now)
    finally:
        client.close()
    outcome = IntakeOutcome(reports=reports, requests=client.requests)
    for week in sorted({w for report in reports for w in report.weeks_to_rebuild}):
        with pulse.db.sessions() as session:
            issue = session.scalar(select(Issue).where(Issue.week_key == week))
            kept = (issue.subject, issue.preheader) if issue else (None, None)
        try:  # the editors' subject and preheader stay; only the listings change
            weekly.build_week(pulse, week, rebuild=True, subject=kept[0], preheader=kept[1])
            outcome.rebuilt.append(week)
        except PulseError as err:  # e.g. the issue began sending meanwhile
            outcome.rebuild_failed[week] = str(err)
    return outcome
