"""Builds the application's parts from settings: the one place they are put together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pipeline.analytics.tokens import ClickSigner
from pipeline.analytics.tracking import ClickTracking, untracked_lookup
from pipeline.config import Settings
from pipeline.db import Database, open_database
from pipeline.delivery.compose import ListIdentity
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.providers.registry import make_provider
from pipeline.issues.render import Footer
from pipeline.resources import use_templates
from pipeline.subscriber_wiring import subscriber_context
from subscribers.context import SubscriberContext
from subscribers.tokens import TokenSigner


@dataclass
class Pulse:
    """Settings plus the long-lived objects derived from them."""

    settings: Settings

    def __post_init__(self) -> None:
        use_templates(self.settings.templates_dir)

    @cached_property
    def db(self) -> Database:
        return open_database(self.settings.database_url)

    @cached_property
    def signer(self) -> TokenSigner:
        return TokenSigner(self.settings.secret_keys(), self.settings.list_id)

    @cached_property
    def identity(self) -> ListIdentity:
        return ListIdentity(
            sender=self.settings.sender,
            base_url=self.settings.base_url,
            list_id=self.settings.list_id,
            tracking=ClickTracking(
                base_url=self.settings.base_url,
                signer=ClickSigner(self.settings.secret_keys()),
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
        )

    @cached_property
    def subscribers(self) -> SubscriberContext:
        """What the subscriber flows need, sending through the configured provider."""
        return subscriber_context(self.settings, self.db, self.signer, self.provider)

    def provider(self) -> Provider:
        return make_provider(self.settings)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
