"""Provider event sources by name: verification and normalisation, one module each."""

from __future__ import annotations

from pipeline.events.providers import mailgun, postmark, resend, sendgrid, ses
from pipeline.events.providers.base import EventSource

SOURCES: dict[str, EventSource] = {
    source.name: source
    for source in (postmark.SOURCE, sendgrid.SOURCE, mailgun.SOURCE, ses.SOURCE, resend.SOURCE)
}

__all__ = ["SOURCES", "EventSource"]
