"""Rendering the transactional emails (confirmation, welcome): MJML for HTML, plain text too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import mjml
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from pulse_core.errors import PulseError
from subscribers.outgoing import OutgoingEmail


class EmailRenderError(PulseError):
    """A transactional template did not render or compile."""


@dataclass(frozen=True)
class MailIdentity:
    """What every transactional email says about the list."""

    list_name: str
    base_url: str
    postal_address: str


class TransactionalMail:
    """Builds the confirmation and welcome messages from ``templates/email/``."""

    def __init__(
        self,
        templates_dir: Path,
        identity: MailIdentity,
        latest_issue_url: Callable[[], str],
    ) -> None:
        self.templates_dir = templates_dir
        self.identity = identity
        self.latest_issue_url = latest_issue_url

    @cached_property
    def env(self) -> Environment:
        return Environment(
            loader=FileSystemLoader(str(self.templates_dir)),
            autoescape=select_autoescape(enabled_extensions=("html", "mjml")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def confirmation(
        self, to: str, first_name: str | None, confirm_url: str, expires_days: int
    ) -> OutgoingEmail:
        """The double opt-in message carrying the confirmation link."""
        return self._build(
            "confirm",
            to,
            first_name,
            subject=f"Confirm your subscription to {self.identity.list_name}",
            confirm_url=confirm_url,
            expires_days=expires_days,
        )

    def recovery(
        self, to: str, first_name: str | None, recover_url: str, reason: str, expires_days: int
    ) -> OutgoingEmail:
        """To a suppressed address someone signed up again: what happened, and a way back."""
        return self._build(
            "recover",
            to,
            first_name,
            subject=f"Do you want {self.identity.list_name} again?",
            recover_url=recover_url,
            reason=reason,
            expires_days=expires_days,
        )

    def manage_link(
        self, to: str, first_name: str | None, manage_url: str, expires_minutes: int
    ) -> OutgoingEmail:
        """A fresh, short-lived link to change, download or delete one's data."""
        return self._build(
            "manage",
            to,
            first_name,
            subject=f"Your link to manage your {self.identity.list_name} data",
            manage_url=manage_url,
            expires_minutes=expires_minutes,
        )

    def welcome(
        self, to: str, first_name: str | None, unsubscribe_url: str, preferences_url: str
    ) -> OutgoingEmail:
        """Sent once the address is confirmed, pointing at the latest issue."""
        return self._build(
            "welcome",
            to,
            first_name,
            subject=f"Welcome to {self.identity.list_name}",
            latest_issue_url=self.latest_issue_url(),
            unsubscribe_url=unsubscribe_url,
            preferences_url=preferences_url,
        )

    def referral_milestone(
        self,
        to: str,
        first_name: str | None,
        *,
        threshold: int,
        reward: str,
        referral_url: str,
        preferences_url: str,
        unsubscribe_url: str,
    ) -> OutgoingEmail:
        """To a reader whose referrals reached a milestone: what they earned."""
        return self._build(
            "milestone",
            to,
            first_name,
            subject=f"You brought {threshold} readers to {self.identity.list_name}",
            threshold=threshold,
            reward=reward,
            referral_url=referral_url,
            unsubscribe_url=unsubscribe_url,
            preferences_url=preferences_url,
        )

    def _build(
        self, kind: str, to: str, first_name: str | None, *, subject: str, **values: Any
    ) -> OutgoingEmail:
        context = {"identity": self.identity, "first_name": first_name, **values}
        try:
            source = self.env.get_template(f"email/{kind}.mjml").render(context)
            html: str = mjml.mjml2html(source)
            text = self.env.get_template(f"email/{kind}.txt").render(context)
        except (TemplateError, ValueError) as err:  # Jinja's tree; MRML raises ValueError
            raise EmailRenderError(f"the {kind} email did not render: {err}") from err
        return OutgoingEmail(
            to=to, to_name=first_name, subject=subject, html=html, text=text, kind=kind
        )
