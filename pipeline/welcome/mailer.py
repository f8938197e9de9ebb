"""A step's batch: the rendered email, and each reader's links, headers and Message-ID.

The same compliance as the weekly issue (delivery/compose.py): List-Unsubscribe with https
and mailto, List-Unsubscribe-Post for one-click (RFC 8058), List-Id, a visible unsubscribe
link and the postal address in the footer. A recipient's delivery id is the *negated* row
id: results map back to rows as for an issue, while a VERP return path or a provider's
metadata can never name a weekly delivery (those ids are positive), so a bounce of a series
email is never pinned on somebody's issue.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.delivery.compose import ListIdentity
from pipeline.delivery.message import Batch, Recipient, clean_display_name
from pipeline.welcome.outbox import ClaimedSend
from pipeline.welcome.templates import StepEmail
from subscribers.tokens import TokenSigner


def send_id_of(delivery_id: int) -> int:
    """The row a recipient's (negated) delivery id stands for."""
    return -delivery_id


class StepMailer:
    """Composes batches of one rendered step."""

    def __init__(self, email: StepEmail, identity: ListIdentity, signer: TokenSigner) -> None:
        self.email = email
        self.identity = identity
        self.signer = signer
        self.key = f"welcome-{email.step.key}"
        self.headers = {
            "List-Id": f"{identity.list_name} <{identity.list_id}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Feedback-ID": f"{email.step.key}:welcome:pulse:{identity.domain}",
        }

    def message_id(self, send_id: int) -> str:
        """Stable per row, so an email taken back after a crash keeps its identity."""
        local = f"welcome.{self.email.step.key}.{send_id}"
        return f"<pulse.{local}.{self.signer.message_tag(local)}@{self.identity.domain}>"

    def recipient(self, row: ClaimedSend) -> Recipient:
        unsubscribe = self.signer.unsubscribe_token(row.subscriber_id)
        unsubscribe_url = self.identity.unsubscribe_url(unsubscribe)
        preferences = self.identity.preferences_url(
            self.signer.preferences_token(row.subscriber_id)
        )
        return Recipient(
            delivery_id=-row.send_id,
            email=row.email,
            name=clean_display_name(row.first_name),
            message_id=self.message_id(row.send_id),
            values={
                "unsubscribe_url": unsubscribe_url,
                "preferences_url": preferences,
                "first_name": row.first_name or "there",
            },
            headers={
                "List-Unsubscribe": (
                    f"<{unsubscribe_url}>, <{self.identity.unsubscribe_mailto(unsubscribe)}>"
                ),
            },
        )

    def batch(self, rows: Sequence[ClaimedSend]) -> Batch:
        return Batch(
            key=self.key,
            subject=self.email.subject,
            sender=self.identity.sender,
            html=self.email.html,
            text=self.email.text,
            recipients=[self.recipient(row) for row in rows],
            headers=self.headers,
        )
