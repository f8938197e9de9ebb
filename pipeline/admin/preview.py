"""The issue as it will be sent: a draft from the queue or the built issue, and test sends."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.content.validate import required_text
from pipeline.delivery.compose import IssueMailer
from pipeline.delivery.providers.base import SendResult
from pipeline.delivery.store import ClaimedDelivery
from pipeline.errors import IssueError, ValidationError
from pipeline.issues.assemble import assemble_issue
from pipeline.issues.build import FROZEN, build_issue
from pipeline.issues.links import links_to_json
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.render import render_issue_once
from pipeline.wiring import Pulse
from subscribers.addresses import normalise_email

_DARK_QUERY = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)
_SCHEME_META = re.compile(r'(<meta name="(?:supported-)?color-scheme" content=")light dark(")')


def stored_issue(session: Session, week: str) -> Issue | None:
    return session.scalar(select(Issue).where(Issue.week_key == week))


def draft_issue(pulse: Pulse, session: Session, week: str) -> Issue:
    """The issue the queue would make now, rendered but not stored (nothing is written)."""
    number = (session.scalar(select(func.max(Issue.number))) or 0) + 1
    view, _snippets, _jobs = assemble_issue(
        session, week=week, number=number, subject=None, preheader=None
    )
    rendered = render_issue_once(view, pulse.footer)
    return Issue(
        week_key=week,
        number=number,
        subject=view.subject,
        preheader=view.preheader,
        status=IssueStatus.BUILT,
        mjml=rendered.mjml,
        html=rendered.html,
        text=rendered.text,
        links_json=links_to_json(rendered.links),
    )


def current_issue(pulse: Pulse, session: Session, week: str) -> tuple[Issue, bool]:
    """The built issue if there is one, else the draft; and whether it is built."""
    issue = stored_issue(session, week)
    if issue is not None:
        return issue, True
    return draft_issue(pulse, session, week), False


def build_with_headline(
    pulse: Pulse, session: Session, week: str, subject: str, preheader: str
) -> Issue:
    """Build (or rebuild) the week from the queue with this subject and preheader.

    Empty fields fall back to the defaults. Rebuilding withdraws any approval: what was
    approved is no longer what will be sent.
    """
    clean_subject = required_text(subject, "subject", max_length=200) if subject.strip() else None
    clean_preheader = (
        required_text(preheader, "preheader", max_length=300) if preheader.strip() else None
    )
    for name, value in (("subject", clean_subject), ("preheader", clean_preheader)):
        if value is not None and "\n" in value:
            raise ValidationError(name, "must be one line")
    existing = stored_issue(session, week)
    if existing is not None and existing.status in FROZEN:
        raise IssueError(f"issue {week} is {existing.status.value} and can no longer change")
    result = build_issue(
        session,
        week=week,
        footer=pulse.footer,
        rebuild=existing is not None,
        subject=clean_subject,
        preheader=clean_preheader,
    )
    result.issue.approved_at = None
    result.issue.approved_by = None
    session.flush()
    return result.issue


def ensure_built(pulse: Pulse, session: Session, week: str) -> Issue:
    existing = stored_issue(session, week)
    if existing is not None:
        return existing
    return build_issue(session, week=week, footer=pulse.footer).issue


def sample_parts(pulse: Pulse, issue: Issue) -> tuple[str, str]:
    """HTML and text as a sample reader would get them (links and name merged)."""
    batch, recipient = IssueMailer(issue, pulse.identity, pulse.signer).sample()
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
