"""Turning claimed rows into a :class:`Batch`: links, tokens and headers per recipient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from urllib.parse import quote

from pipeline.delivery.message import Batch, Recipient, clean_display_name
from pipeline.delivery.outbox import ClaimedDelivery
from pipeline.issues.merge import MergeTemplate
from pipeline.issues.models import Issue
from subscribers.tokens import TokenSigner


@dataclass(frozen=True)
class ListIdentity:
    """Who sends and where links point: the same for every message of the list."""

    sender: Address
    base_url: str
    list_id: str
    list_name: str = "AISE Pulse Brief"

    @property
    def domain(self) -> str:
        return self.sender.domain or "localhost"

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.base_url}/u/{token}"

    def preferences_url(self, token: str) -> str:
        return f"{self.base_url}/preferences/{token}"

    def unsubscribe_mailto(self, token: str) -> str:
        return f"mailto:{self.sender.addr_spec}?subject={quote('unsubscribe ' + token)}"


# The reader previews and test sends are addressed to: no real subscriber, no real tokens' owner.
SAMPLE_READER = ClaimedDelivery(
    delivery_id=0, subscriber_id=0, email="reader@example.com", first_name="Alex"
)


class IssueMailer:
    """Composes batches of one issue; the compiled templates are parsed once."""

    def __init__(self, issue: Issue, identity: ListIdentity, signer: TokenSigner) -> None:
        self.issue = issue
        self.identity = identity
        self.signer = signer
        self.html = MergeTemplate.parse(issue.html)
        self.text = MergeTemplate.parse(issue.text)
        self.headers = {
            "List-Id": f"{identity.list_name} <{identity.list_id}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Feedback-ID": f"{issue.week_key}:issue:pulse:{identity.domain}",
        }

    def message_id(self, delivery_id: int) -> str:
        """Stable per delivery, so a retried message keeps its identity."""
        return f"<pulse.{self.issue.week_key}.{delivery_id}@{self.identity.domain}>"

    def recipient(self, row: ClaimedDelivery) -> Recipient:
        unsubscribe = self.signer.unsubscribe_token(row.subscriber_id)
        preferences = self.signer.preferences_token(row.subscriber_id)
        unsubscribe_url = self.identity.unsubscribe_url(unsubscribe)
        return Recipient(
            delivery_id=row.delivery_id,
            email=row.email,
            # Names come from signup forms: control characters must never reach a header.
            name=clean_display_name(row.first_name),
            message_id=self.message_id(row.delivery_id),
            values={
                "unsubscribe_url": unsubscribe_url,
                "preferences_url": self.identity.preferences_url(preferences),
                "first_name": row.first_name or "there",
            },
            headers={
                "List-Unsubscribe": (
                    f"<{unsubscribe_url}>, <{self.identity.unsubscribe_mailto(unsubscribe)}>"
                ),
            },
        )

    def batch(self, rows: Sequence[ClaimedDelivery]) -> Batch:
        return Batch(
            key=self.issue.week_key,
            subject=self.issue.subject,
            sender=self.identity.sender,
            html=self.html,
            text=self.text,
            recipients=[self.recipient(row) for row in rows],
            headers=self.headers,
        )

    def sample(self) -> tuple[Batch, Recipient]:
        """The issue as the sample reader gets it, for previews."""
        batch = self.batch([SAMPLE_READER])
        return batch, batch.recipients[0]
