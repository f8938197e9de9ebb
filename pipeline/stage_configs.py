"""The stages' small frozen configs, built from ``Settings``: the stages never see Settings."""

from __future__ import annotations

from dataclasses import replace

from pipeline.config import PLACEHOLDER_POSTAL_ADDRESS, Settings
from pipeline.delivery.breaker import BreakerThresholds
from pipeline.delivery.compose import ListIdentity
from pipeline.delivery.engine import SendOptions
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.ratelimit import windows_for
from pipeline.delivery.retry import RetryPolicy
from pipeline.events.send_health import event_figures
from pipeline.intake.fetch import IntakeConfig
from pipeline.intake.http import FetchPolicy
from pipeline.intake.models import SourceKind
from pipeline.intake.roles import (
    DEFAULT_EXCLUDE,
    DEFAULT_INCLUDE,
    RoleRules,
    parse_phrases,
    region_of,
)
from pipeline.issues.lint import LintConfig
from pipeline.issues.readiness import ReadinessConfig
from pipeline.issues.render import Footer
from pipeline.issues.slots import IssueRules
from pipeline.welcome.run import SeriesConfig
from subscribers.suppression import suppression_keys


def issue_rules(settings: Settings) -> IssueRules:
    """Section limits, salary thresholds and variants (PULSE_SECTION_LIMITS, PULSE_SALARY_*,
    PULSE_MAX_VARIANTS), with intake's place names for jobs' regions."""
    return replace(IssueRules.from_settings(settings), job_region=region_of)


def lint_config(settings: Settings) -> LintConfig:
    """What lint needs: where links may point and the postal address to look for."""
    return LintConfig(
        base_url=settings.base_url,
        postal_address=settings.postal_address,
        placeholder_address=PLACEHOLDER_POSTAL_ADDRESS,
    )


def readiness_config(settings: Settings, footer: Footer) -> ReadinessConfig:
    """What readiness needs: the rules, lint's config, and the footer a draft is built with."""
    return ReadinessConfig(rules=issue_rules(settings), lint=lint_config(settings), footer=footer)


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
        retry=retry_policy(settings),
        idle_wait=settings.send_idle_wait,
        read_events=event_figures,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    """Backoff, recipient retries and when to give up (PULSE_SEND_*, PULSE_RETRY_*)."""
    return RetryPolicy(
        request_retries=settings.send_retries,
        backoff_base=settings.send_backoff_base,
        backoff_max=settings.send_backoff_max,
        pause_after_failed_batches=settings.pause_after_failed_batches,
        first_delay=settings.retry_first_delay,
        max_delay=settings.retry_max_delay,
        give_up_after=settings.retry_give_up_after,
        max_retries=settings.retry_max_retries,
    )


def welcome_config(settings: Settings, identity: ListIdentity, footer: Footer) -> SeriesConfig:
    """The welcome series: its steps (PULSE_WELCOME_SERIES) and the weekly send's knobs."""
    return SeriesConfig(
        steps=settings.welcome_steps,
        identity=identity,
        footer=footer,
        batch_size=min(settings.batch_size, 500),
        lease_seconds=settings.send_lease_seconds,
        retry=retry_policy(settings),
        suppression_key=suppression_keys(settings.secret_keys())[0],
    )


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
    """How politely the intake fetches: timeouts, retries, and who it says it is."""
    return FetchPolicy(
        timeout=settings.jobs_http_timeout,
        attempts=settings.jobs_http_attempts,
        backoff=settings.jobs_http_backoff,
        backoff_max=max(settings.jobs_http_backoff * 8, 1.0),
        user_agent=f"AISE-Pulse-Brief/1.0 (+{settings.base_url})",
    )
