"""The issue as a reader sees it (light or dark), and test sends to the seed list.

The draft and the build themselves are :mod:`pipeline.workflow.weekly`'s.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import replace

from pipeline.delivery.compose import IssueMailer
from pipeline.delivery.providers.base import SendResult
from pipeline.delivery.store import ClaimedDelivery
from pipeline.issues.models import Issue
from pipeline.issues.variant_store import VariantBody
from pipeline.issues.variants import DEFAULT_KEY, VariantKey
from pipeline.wiring import Pulse
from subscribers.addresses import normalise_email

_DARK_QUERY = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)
_SCHEME_META = re.compile(r'(<meta name="(?:supported-)?color-scheme" content=")light dark(")')


def sample_parts(
    pulse: Pulse,
    issue: Issue,
    variant: VariantKey = DEFAULT_KEY,
    bodies: Mapping[str, VariantBody] | None = None,
) -> tuple[str, str]:
    """HTML and text as a sample reader would get them (links and name merged), of the
    default issue or of one of its tailored variants (``bodies``, read from the build)."""
    mailer = IssueMailer(issue, pulse.identity, pulse.signer, bodies)
    batch, recipient = mailer.sample(variant.stored)
    return batch.html_for(recipient), batch.text_for(recipient)


def force_scheme(html: str, scheme: str) -> str:
    """Show the email's light or dark styles regardless of the viewer's own setting."""
    if scheme == "dark":
        html = _DARK_QUERY.sub("@media all", html)
        return _SCHEME_META.sub(r"\1dark\2", html)
    html = _DARK_QUERY.sub("@media not all", html)
    return _SCHEME_META.sub(r"\1light\2", html)


def test_recipients(pulse: Pulse, editor_email: str) -> list[str]:
    """The configured seed list, or else the editor's own address."""
    configured = pulse.settings.test_send_address_list
    return [normalise_email(a, field="PULSE_TEST_SEND_ADDRESSES") for a in configured] or [
        editor_email
    ]


def send_test(pulse: Pulse, issue: Issue, addresses: list[str]) -> list[SendResult]:
    """Send the render to ``addresses`` through the configured provider, marked [TEST].

    No delivery rows are written: a test send is not the issue's send and cannot stand in
    for anyone's copy. Message-IDs are fresh each time so two test sends never collide.
    """
    mailer = IssueMailer(issue, pulse.identity, pulse.signer)
    rows = [
        ClaimedDelivery(delivery_id=index, subscriber_id=0, email=address, first_name=None)
        for index, address in enumerate(addresses, start=1)
    ]
    batch = mailer.batch(rows)
    nonce = secrets.token_hex(6)
    domain = pulse.identity.domain
    recipients = [
        replace(r, message_id=f"<pulse.test.{issue.week_key}.{nonce}.{r.delivery_id}@{domain}>")
        for r in batch.recipients
    ]
    headers = {
        **batch.headers,
        "Feedback-ID": f"{issue.week_key}:test:pulse:{domain}",
        "X-Pulse-Test": "yes",
    }
    test_batch = replace(
        batch,
        key=f"{issue.week_key}-test",
        subject=f"[TEST] {issue.subject}",
        recipients=recipients,
        headers=headers,
    )
    provider = pulse.provider()
    try:
        return provider.send_batch(test_batch)
    finally:
        provider.close()
