"""Emailing the editors (readiness reports, holds, reminders) through the configured provider."""

from __future__ import annotations

import html
import logging
import uuid

from pipeline.delivery.message import Batch, Recipient
from pipeline.issues.merge import MergeTemplate
from pipeline.wiring import Pulse

log = logging.getLogger(__name__)


class EditorNotifier:
    """Sends a short plain-text report to every address in ``PULSE_EDITOR_EMAILS``."""

    def __init__(self, pulse: Pulse) -> None:
        self.pulse = pulse

    def __call__(self, subject: str, body: str) -> int:
        editors = self.pulse.settings.editor_email_list
        if not editors:
            log.warning("no PULSE_EDITOR_EMAILS configured; not sent: %s", subject)
            return 0
        identity = self.pulse.identity
        recipients = [
            Recipient(
                delivery_id=0,
                email=address,
                name=None,
                message_id=f"<editors.{uuid.uuid4().hex}@{identity.domain}>",
                values={},
                headers={},
            )
            for address in editors
        ]
        # Whole-text parts: a report may quote anything, so it is never parsed for merge slots.
        batch = Batch(
            key="editors",
            subject=f"[AISE Pulse Brief] {subject}",
            sender=identity.sender,
            html=MergeTemplate(parts=(f"<pre>{html.escape(body)}</pre>",)),
            text=MergeTemplate(parts=(body,)),
            recipients=recipients,
        )
        provider = self.pulse.provider()
        try:
            results = provider.send_batch(batch)
        finally:
            provider.close()
        sent = sum(1 for result in results if result.status.accepted)
        log.info("emailed %d editor(s): %s", sent, subject)
        return sent
