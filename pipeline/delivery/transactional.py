"""Sends the subscribers package's transactional emails (confirm, welcome) via the provider.

Each message goes out as a single-recipient :class:`Batch` under the key ``transactional``
(the ``file`` provider writes it to ``PULSE_OUTBOX_DIR/transactional/``), never as part of
an issue's send. The batch is marked ``transactional``, so Postmark sends it on
``PULSE_POSTMARK_TRANSACTIONAL_STREAM``; every message has its own Message-ID, from which
Resend's idempotency key is derived, so no two confirmations share a key.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from email.headerregistry import Address

from pipeline.delivery.message import Batch, Recipient, clean_display_name
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.providers.errors import (
    PermanentProviderError,
    ProviderError,
)
from pipeline.errors import SendFailed
from pipeline.issues.merge import MergeTemplate
from subscribers.outgoing import OutgoingEmail

log = logging.getLogger("pipeline.delivery.transactional")

BATCH_KEY = "transactional"


class TransactionalSender:
    """A :data:`subscribers.outgoing.SendEmail` backed by the configured provider.

    Raises :class:`SendFailed` when the message was not sent, the provider's error chained
    as its cause (``permanent`` when retrying will not help).
    """

    def __init__(self, provider_factory: Callable[[], Provider], sender: Address) -> None:
        self.provider_factory = provider_factory
        self.sender = sender

    def message_id(self, kind: str) -> str:
        """Unique per message: transactional emails are never retried as the same message."""
        return f"<pulse.{kind}.{secrets.token_hex(12)}@{self.sender.domain or 'localhost'}>"

    def __call__(self, email: OutgoingEmail) -> None:
        # Built as literal templates: a name such as "%%pulse:x%%" must not become a slot.
        batch = Batch(
            key=BATCH_KEY,
            subject=email.subject,
            sender=self.sender,
            html=MergeTemplate(parts=(email.html,)),
            text=MergeTemplate(parts=(email.text,)),
            recipients=[
                Recipient(
                    delivery_id=0,
                    email=email.to,
                    name=clean_display_name(email.to_name),
                    message_id=self.message_id(email.kind),
                    values={},
                    headers=dict(email.headers),
                )
            ],
            headers={"Auto-Submitted": "auto-generated"},
            transactional=True,
        )
        provider = self.provider_factory()
        try:
            results = provider.send_batch(batch)
        except ProviderError as err:
            # A provider that failed after deciding this message still decided it.
            decided = [r for r in err.partial if r.status.accepted]
            if not decided:
                permanent = isinstance(err, PermanentProviderError)
                message = f"{email.kind} email not sent: {err}"
                raise SendFailed(message, permanent=permanent) from err
            results = decided
        finally:
            provider.close()
        if not results or not results[0].status.accepted:
            result = results[0] if results else None
            status = result.status.value if result else "no answer"
            error = (result.error if result else None) or status
            log.warning("transactional %s email not accepted: %s", email.kind, status)
            # The provider answered, refusing this recipient: no provider error to chain.
            permanent = result is not None and result.status.permanent
            outcome = "refused" if permanent else "not sent"
            message = f"{provider.name}: {email.kind} email {outcome}: {error}"
            raise SendFailed(message, permanent=permanent)
