"""Builds the application's parts from settings: the one place they are put together.

Only the wiring (this module, ``subscriber_wiring`` and ``provider_wiring``) reads
:class:`~pipeline.config.Settings`; every stage receives a small frozen value holding just
what it needs, built here.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from pipeline.analytics.tokens import ClickSigner
from pipeline.analytics.tracking import ClickTracking, untracked_lookup
from pipeline.config import PLACEHOLDER_POSTAL_ADDRESS, Settings
from pipeline.db import Database, open_database
from pipeline.deliverability.doctor import DomainSetup
from pipeline.delivery.compose import ListIdentity
from pipeline.delivery.liveness import ProcessLiveness, process_liveness, this_host
from pipeline.delivery.providers.base import Provider
from pipeline.events.ingest import WebhookInbox
from pipeline.events.policy import EventPolicy
from pipeline.events.providers.base import WebhookCredentials
from pipeline.issues.render import Footer
from pipeline.issues.slots import IssueRules
from pipeline.provider_wiring import make_provider
from pipeline.resources import use_templates
from pipeline.schedule import WeeklySchedule
from pipeline.stage_configs import issue_rules
from pipeline.subscriber_wiring import subscriber_context
from subscribers.context import SubscriberContext
from subscribers.suppression import suppression_keys
from subscribers.tokens import TokenSigner


def event_policy(settings: Settings) -> EventPolicy:
    """How provider events change the list; reads (or creates) the local secret key."""
    newest, *retired = suppression_keys(settings.secret_keys())
    return EventPolicy(
        suppression_key=newest,
        retired_keys=tuple(retired),
        soft_bounce_limit=settings.soft_bounce_limit,
        soft_bounce_window=timedelta(days=settings.soft_bounce_window_days),
    )


def webhook_credentials(settings: Settings) -> WebhookCredentials:
    """Each provider's webhook credentials and the signed-timestamp tolerance."""
    return WebhookCredentials(
        tolerance_seconds=settings.webhook_tolerance_seconds,
        postmark_user=settings.postmark_webhook_user,
        postmark_password=settings.postmark_webhook_password,
        sendgrid_public_key=settings.sendgrid_webhook_public_key,
        mailgun_signing_key=settings.mailgun_webhook_signing_key,
        ses_topic_arns=tuple(settings.ses_topic_arn_list),
        resend_secret=settings.resend_webhook_secret,
    )


def domain_setup(settings: Settings) -> DomainSetup:
    """What ``pulse doctor`` checks the sending domain's DNS against."""
    return DomainSetup(
        provider=settings.provider,
        sender_domain=settings.sender.domain or "",
        base_url=settings.base_url,
        postal_address=(
            ""
            if settings.postal_address.strip() == PLACEHOLDER_POSTAL_ADDRESS
            else settings.postal_address
        ),
        bounce_domain=settings.bounce_domain,
        dkim_domain=settings.dkim_domain,
        dkim_selector=settings.dkim_selector,
        dkim_private_key_file=settings.dkim_private_key_file,
    )


@dataclass
class Pulse:
    """Settings plus the long-lived objects derived from them."""

    settings: Settings

    def __post_init__(self) -> None:
        use_templates(self.settings.templates_dir)

    @cached_property
    def db(self) -> Database:
        return open_database(
            self.settings.database_url, application_name=f"pulse {self.host_id}:{os.getpid()}"
        )

    @property
    def host_id(self) -> str:
        """This process's machine as the other senders see it: PULSE_HOST_ID or the hostname."""
        return this_host(self.settings.host_id or None)

    def liveness(self) -> AbstractContextManager[ProcessLiveness]:
        """Hold this process's liveness lock (see pipeline/delivery/liveness.py) for a block."""
        return process_liveness(self.db.engine, self.host_id)

    @cached_property
    def signer(self) -> TokenSigner:
        return TokenSigner(self.settings.secret_keys(), self.settings.list_id)

    @cached_property
    def schedule(self) -> WeeklySchedule:
        """When issues go out: PULSE_SCHEDULE in PULSE_TIMEZONE (PULSE_SEND_LOCAL_TIME: waves)."""
        settings = self.settings
        return WeeklySchedule.parse(settings.schedule, settings.timezone, settings.send_local_time)

    @cached_property
    def click_signer(self) -> ClickSigner:
        """Signs and checks the click and open tokens of ``/c/`` and ``/o/``."""
        return ClickSigner(self.settings.secret_keys())

    @cached_property
    def identity(self) -> ListIdentity:
        return ListIdentity(
            sender=self.settings.sender,
            base_url=self.settings.base_url,
            list_id=self.settings.list_id,
            tracking=ClickTracking(
                base_url=self.settings.base_url,
                signer=self.click_signer,
                clicks=self.settings.track_clicks,
                opens=self.settings.track_opens,
                untracked=untracked_lookup(self.db.sessions),
            ),
        )

    @cached_property
    def footer(self) -> Footer:
        return Footer(
            base_url=self.settings.base_url,
            postal_address=self.settings.postal_address,
            track_clicks=self.settings.track_clicks,
            track_opens=self.settings.track_opens,
            referral_link=True,
        )

    @cached_property
    def subscribers(self) -> SubscriberContext:
        """What the subscriber flows need, sending through the configured provider."""
        return subscriber_context(self.settings, self.db, self.signer, self.provider)

    @cached_property
    def event_policy(self) -> EventPolicy:
        return event_policy(self.settings)

    @cached_property
    def issue_rules(self) -> IssueRules:
        return issue_rules(self.settings)

    @cached_property
    def webhooks(self) -> WebhookInbox:
        """What the webhook routes need; the event policy is built on the first webhook."""
        return WebhookInbox(
            sessions=self.db.sessions,
            credentials=webhook_credentials(self.settings),
            max_body_bytes=self.settings.webhook_max_body_bytes,
            policy=lambda: self.event_policy,
        )

    def provider(self) -> Provider:
        return make_provider(self.settings)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
