"""Emailing the editors (readiness reports, holds, reminders) through the configured provider."""

from __future__ import annotations

import html
import logging

from pipeline.delivery.providers.errors import ProviderError
from pipeline.delivery.transactional import TransactionalSender
from pipeline.wiring import Pulse
from subscribers.outgoing import OutgoingEmail

log = logging.getLogger(__name__)


class EditorNotifier:
    """Sends a short plain-text report to every address in ``PULSE_EDITOR_EMAILS``."""

    def __init__(self, pulse: Pulse) -> None:
        self.pulse = pulse
        self.send = TransactionalSender(pulse.provider, pulse.settings.sender)

    def __call__(self, subject: str, body: str) -> int:
        """Email every editor; returns how many the provider accepted."""
        editors = self.pulse.settings.editor_email_list
        if not editors:
            log.warning("no PULSE_EDITOR_EMAILS configured; not sent: %s", subject)
            return 0
        sent = 0
        for address in editors:
            email = OutgoingEmail(
                to=address,
                subject=f"[AISE Pulse Brief] {subject}",
                html=f"<pre>{html.escape(body)}</pre>",
                text=body,
                kind="editors",
            )
            try:
                self.send(email)
            except ProviderError as err:
                log.error("could not email editor report %r: %s", subject, err)
                continue
            sent += 1
        log.info("emailed %d editor(s): %s", sent, subject)
        return sent
