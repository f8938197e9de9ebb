"""What the subscriber flows need from the outside world, handed in by the wiring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from subscribers.emails import TransactionalMail
from subscribers.leaving import LeavingRules, WithdrawPending
from subscribers.outgoing import SendEmail
from subscribers.privacy import ErasureHook
from subscribers.referrals import Milestone
from subscribers.suppression import suppression_keys
from subscribers.tokens import TokenSigner

# Shown next to the signup form and stored verbatim with every web signup.
WEB_CONSENT_TEXT = (
    "Yes, send me AISE Pulse Brief: one email a week with salary trends, who's hiring and "
    "role insights for AI Sales Engineers. I can unsubscribe with one click at any time."
)


@dataclass(frozen=True)
class SubscriptionPolicy:
    """The knobs of double opt-in (defaults are the product's promises)."""

    confirm_lifetime: timedelta = timedelta(days=7)
    # Nobody can flood a stranger's inbox: one confirmation per interval, a few per day.
    confirm_min_interval: timedelta = timedelta(minutes=10)
    confirm_max_per_day: int = 3
    # A bounced or complained address gets at most one "do you want to come back?" email
    # in this time, whoever types it into the form.
    recover_min_interval: timedelta = timedelta(days=30)
    # How long a mailed "manage my data" link works (rename, export, erasure).
    manage_link_lifetime: timedelta = timedelta(hours=1)
    welcome_email: bool = True
    check_deliverability: bool = False
    # PULSE_TIMEZONE: the zone of a reader whose profile names none (stored as NULL).
    default_timezone: str = "UTC"
    # PULSE_REFERRAL_MILESTONES, by threshold: each reached one is mailed once per referrer.
    referral_milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True)
class SubscriberContext:
    """The database, token signer, mail and settings the subscriber flows work with."""

    sessions: sessionmaker[Session]
    signer: TokenSigner
    secret_keys: Sequence[str]
    mail: TransactionalMail
    send_email: SendEmail
    base_url: str
    # Leaving withdraws the person's pending deliveries: the pipeline's step, handed in.
    withdraw_pending: WithdrawPending
    policy: SubscriptionPolicy = field(default_factory=SubscriptionPolicy)
    erasure_hooks: tuple[ErasureHook, ...] = ()

    @property
    def hash_keys(self) -> list[str]:
        """Suppression hash keys, newest first."""
        return suppression_keys(self.secret_keys)

    @property
    def leaving(self) -> LeavingRules:
        """What :func:`subscribers.leaving.leave` needs: the hash keys and the withdraw step."""
        return LeavingRules(self.hash_keys, self.withdraw_pending)

    def confirm_url(self, subscriber_id: int) -> str:
        return f"{self.base_url}/confirm/{self.signer.confirm_token(subscriber_id)}"

    def unsubscribe_url(self, subscriber_id: int) -> str:
        return f"{self.base_url}/u/{self.signer.unsubscribe_token(subscriber_id)}"

    def preferences_url(self, subscriber_id: int) -> str:
        return f"{self.base_url}/preferences/{self.signer.preferences_token(subscriber_id)}"

    def manage_url(self, subscriber_id: int) -> str:
        return f"{self.base_url}/preferences/{self.signer.manage_token(subscriber_id)}"

    def referral_url(self, referral_code: str | None) -> str:
        """The reader's personal referral link: the landing page with their code."""
        return f"{self.base_url}/?ref={referral_code}" if referral_code else f"{self.base_url}/"

    def recover_url(self, subscriber_id: int) -> str:
        return f"{self.base_url}/recover/{self.signer.recover_token(subscriber_id)}"
