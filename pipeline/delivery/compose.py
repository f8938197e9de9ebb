"""Turning claimed rows into a :class:`Batch`: links, tokens and headers per recipient."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from email.headerregistry import Address
from typing import Protocol
from urllib.parse import quote

from pipeline.delivery.message import Batch, Recipient, clean_display_name
from pipeline.delivery.store import ClaimedDelivery
from pipeline.issues.links import direct_values, links_from_json
from pipeline.issues.merge import MergeTemplate, html_values, link_field
from pipeline.issues.models import Issue
from pipeline.issues.variant_store import VariantBody
from subscribers.tokens import TokenSigner

log = logging.getLogger(__name__)

# The pixel URL an untracked reader's message carries: served, never recorded.
UNTRACKED_PIXEL = "o/-"


class LinkTracking(Protocol):
    """What the merge needs from click and open tracking (issue 16).

    :class:`pipeline.analytics.tracking.ClickTracking` is the one the wiring hands in; the
    delivery stage only knows this shape, so it never imports the analytics stage above it.
    """

    @property
    def clicks(self) -> bool: ...

    @property
    def opens(self) -> bool: ...

    def delivery_urls(
        self, delivery_id: int, issue_id: int, positions: Sequence[int], *, pixel: bool
    ) -> tuple[list[str], str | None]:
        """One delivery's click URLs for ``positions``, and its open-pixel URL if ``pixel``."""
        ...

    def untracked(self, subscriber_ids: Sequence[int]) -> frozenset[int]:
        """Which of these subscribers asked for direct links and no pixel."""
        ...


@dataclass(frozen=True)
class ListIdentity:
    """Who sends and where links point: the same for every message of the list."""

    sender: Address
    base_url: str
    list_id: str
    list_name: str = "AISE Pulse Brief"
    # Click/open tracking (issue 16); None composes every link direct, as before.
    tracking: LinkTracking | None = None

    @property
    def domain(self) -> str:
        return self.sender.domain or "localhost"

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.base_url}/u/{token}"

    def preferences_url(self, token: str) -> str:
        return f"{self.base_url}/preferences/{token}"

    def referral_url(self, code: str | None) -> str:
        """A reader's referral link; the plain landing page for the sample reader."""
        return f"{self.base_url}/?ref={code}" if code else f"{self.base_url}/"

    def unsubscribe_mailto(self, token: str) -> str:
        return f"mailto:{self.sender.addr_spec}?subject={quote('unsubscribe ' + token)}"


# The reader previews and test sends are addressed to: no real subscriber, no real tokens' owner.
SAMPLE_READER = ClaimedDelivery(
    delivery_id=0, subscriber_id=0, email="reader@example.com", first_name="Alex"
)


@dataclass(frozen=True)
class _Body:
    """One rendered body (the default issue or a variant), parsed once for the merge."""

    html: MergeTemplate
    text: MergeTemplate
    tracked_names: list[str]  # the link merge fields this body carries…
    tracked_positions: list[int]  # …and the links' positions
    pixel: bool


class IssueMailer:
    """Composes batches of one issue; the compiled templates are parsed once.

    ``variants`` holds the issue's tailored variants (compiled HTML and text by key,
    pipeline/issues/variant_store.py); a batch's rows share one variant (claims take one at
    a time) and get its body. A key the issue has no body for gets the default issue.
    """

    def __init__(
        self,
        issue: Issue,
        identity: ListIdentity,
        signer: TokenSigner,
        variants: Mapping[str, VariantBody] | None = None,
    ) -> None:
        self.issue = issue
        self.identity = identity
        self.signer = signer
        self.links = links_from_json(issue.links_json)
        self.direct = direct_values(self.links)
        self.tracking = identity.tracking
        self.default = self._parse(issue.html, issue.text)
        self.variants = dict(variants or {})
        self._bodies: dict[str, _Body] = {}
        self.headers = {
            "List-Id": f"{identity.list_name} <{identity.list_id}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Feedback-ID": f"{issue.week_key}:issue:pulse:{identity.domain}",
        }

    def _parse(self, raw_html: str, raw_text: str) -> _Body:
        html, text = MergeTemplate.parse(raw_html), MergeTemplate.parse(raw_text)
        if self.tracking is None or not self.tracking.clicks:
            # Nobody's clicks are tracked: the links are the same for everyone, so they
            # become literal text once and cost nothing per recipient.
            html, text = html.fill(html_values(self.direct)), text.fill(self.direct)
        tracked = [
            (link_field(link.position), link.position)
            for link in self.links
            if link_field(link.position) in html.fields | text.fields
        ]
        return _Body(
            html=html,
            text=text,
            tracked_names=[name for name, _position in tracked],
            tracked_positions=[position for _name, position in tracked],
            pixel="open_url" in html.fields,
        )

    def body(self, variant: str | None) -> _Body:
        """The parsed body for a variant key (parsed on first use), or the default's."""
        if variant is None or variant not in self.variants:
            return self.default
        body = self._bodies.get(variant)
        if body is None:
            stored = self.variants[variant]
            body = self._bodies[variant] = self._parse(stored.html, stored.text)
        return body

    @property
    def tracked(self) -> list[tuple[str, int]]:
        """The default body's link merge fields and positions (the desk's link report)."""
        return list(zip(self.default.tracked_names, self.default.tracked_positions, strict=True))

    @property
    def html(self) -> MergeTemplate:
        return self.default.html

    @property
    def text(self) -> MergeTemplate:
        return self.default.text

    def message_id(self, delivery_id: int) -> str:
        """Stable per delivery, so a retried message keeps its identity; keyed, so unguessable."""
        local = f"{self.issue.week_key}.{delivery_id}"
        return f"<pulse.{local}.{self.signer.message_tag(local)}@{self.identity.domain}>"

    def _tracking_values(self, row: ClaimedDelivery, tracked: bool, body: _Body) -> dict[str, str]:
        """Per-link click URLs (or the links themselves) and the open pixel's URL."""
        tracking = self.tracking
        values: dict[str, str] = {}
        pixel: str | None = None
        if tracked and tracking is not None:
            urls, pixel = tracking.delivery_urls(
                row.delivery_id,
                self.issue.id,
                body.tracked_positions,
                pixel=body.pixel and tracking.opens,
            )
            values.update(zip(body.tracked_names, urls, strict=True))
        else:
            values.update(self.direct)
        if body.pixel:
            values["open_url"] = pixel or f"{self.identity.base_url}/{UNTRACKED_PIXEL}"
        return values

    def recipient(
        self, row: ClaimedDelivery, *, tracked: bool | None = None, body: _Body | None = None
    ) -> Recipient:
        """One addressee's values; ``tracked`` defaults to "a real delivery, clicks tracked"."""
        if tracked is None:
            tracked = row.delivery_id > 0
        if body is None:
            body = self.body(row.variant)
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
                "referral_url": self.identity.referral_url(row.referral_code),
                **self._tracking_values(row, tracked, body),
            },
            headers={
                "List-Unsubscribe": (
                    f"<{unsubscribe_url}>, <{self.identity.unsubscribe_mailto(unsubscribe)}>"
                ),
            },
        )

    def batch(self, rows: Sequence[ClaimedDelivery]) -> Batch:
        """One batch of rows that share a variant (the claim saw to that)."""
        variant = rows[0].variant if rows else None
        if any(row.variant != variant for row in rows):
            # Claims never mix variants; should rows come mixed anyway, nobody gets another
            # reader's tailoring: the whole batch gets the default issue.
            log.warning("a batch of %s mixed variants; sending it the default", self.issue.week_key)
            variant = None
        body = self.body(variant)
        untracked: frozenset[int] = frozenset()
        if (body.tracked_names or body.pixel) and self.tracking is not None:
            untracked = self.tracking.untracked([row.subscriber_id for row in rows])
        return Batch(
            key=self.issue.week_key,
            subject=self.issue.subject,
            sender=self.identity.sender,
            html=body.html,
            text=body.text,
            recipients=[
                self.recipient(
                    row,
                    tracked=row.delivery_id > 0 and row.subscriber_id not in untracked,
                    body=body,
                )
                for row in rows
            ],
            headers=self.headers,
        )

    def sample(self, variant: str | None = None) -> tuple[Batch, Recipient]:
        """The issue (or one variant of it) as the sample reader gets it, for previews."""
        batch = self.batch([replace(SAMPLE_READER, variant=variant)])
        return batch, batch.recipients[0]
