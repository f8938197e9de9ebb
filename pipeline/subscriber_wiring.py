"""Hands the subscribers package what it needs: database, signer, mail, settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from pipeline.analytics.record import erase_engagements
from pipeline.config import Settings
from pipeline.db import Database
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.transactional import TransactionalSender
from pipeline.delivery.withdraw import skip_pending_deliveries
from pipeline.events.erasure import scrub_provider_events
from pipeline.issues.models import Issue, IssueStatus
from pipeline.resources import templates_dir
from pipeline.welcome.outbox import erase_welcome_sends
from pipeline.welcome.series import welcomes_at_once
from pulse_core.database import transaction
from subscribers.context import SubscriberContext, SubscriptionPolicy
from subscribers.emails import MailIdentity, TransactionalMail
from subscribers.referrals import parse_milestones
from subscribers.tokens import TokenSigner
from subscribers.web.embed_origins import parse_origins
from subscribers.web.forms import WebPolicy


def latest_issue_url(settings: Settings, db: Database) -> Callable[[], str]:
    """A callable giving the web URL of the newest sent issue, or the archive."""

    def latest() -> str:
        with transaction(db.sessions) as session:
            key = session.scalar(
                select(Issue.week_key)
                .where(Issue.status == IssueStatus.SENT)
                .order_by(Issue.sent_at.desc(), Issue.id.desc())
                .limit(1)
            )
        return f"{settings.base_url}/issues/{key}" if key else f"{settings.base_url}/issues"

    return latest


def subscriber_context(
    settings: Settings, db: Database, signer: TokenSigner, provider: Callable[[], Provider]
) -> SubscriberContext:
    """The subscriber flows' context, sending through the configured provider."""
    mail = TransactionalMail(
        templates_dir(),
        MailIdentity(
            list_name="AISE Pulse Brief",
            base_url=settings.base_url,
            postal_address=settings.postal_address,
        ),
        latest_issue_url(settings, db),
    )
    return SubscriberContext(
        sessions=db.sessions,
        signer=signer,
        secret_keys=settings.secret_keys(),
        mail=mail,
        send_email=TransactionalSender(provider, settings.sender),
        base_url=settings.base_url,
        withdraw_pending=skip_pending_deliveries,
        policy=SubscriptionPolicy(
            confirm_min_interval=timedelta(minutes=settings.confirm_interval_minutes),
            confirm_max_per_day=settings.confirm_max_per_day,
            # A series whose first step goes at once is the welcome (pipeline/welcome).
            welcome_email=settings.welcome_email and not welcomes_at_once(settings.welcome_steps),
            check_deliverability=settings.check_deliverability,
            default_timezone=settings.timezone,
            referral_milestones=parse_milestones(settings.referral_milestones),
        ),
        erasure_hooks=(scrub_provider_events, erase_engagements, erase_welcome_sends),
    )


def web_policy(settings: Settings) -> WebPolicy:
    """Abuse limits for the public forms."""
    return WebPolicy(
        min_fill_seconds=settings.signup_min_fill_seconds,
        per_ip_per_hour=settings.signup_per_ip_per_hour,
        per_address_per_hour=settings.signup_per_address_per_hour,
        secure_cookies=settings.base_url.startswith("https://"),
        embed_origins=parse_origins(settings.embed_origins),
    )
