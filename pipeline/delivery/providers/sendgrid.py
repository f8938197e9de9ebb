"""SendGrid: ``POST /v3/mail/send`` with up to 1,000 personalizations per call.

The HTML and text bodies travel once per call with ``-field-`` substitution tags; each
personalization carries the recipient's substitutions and own headers (List-Unsubscribe,
Message-ID). SendGrid accepts the whole call (202) or refuses it; it has no idempotency key.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.delivery.message import Batch, Recipient, server_merge
from pipeline.delivery.providers.base import (
    Capabilities,
    PreparedBatch,
    Provider,
    SendResult,
    SendStatus,
)
from pipeline.delivery.providers.http import HttpTransport, excerpt
from pipeline.errors import PermanentProviderError

MAX_BATCH = 1000


def _tag(variable: str) -> str:
    return f"-pulse.{variable}-"


class SendGridProvider(Provider):
    """Sends one call per batch with per-recipient personalizations."""

    name = "sendgrid"
    capabilities = Capabilities(max_batch=MAX_BATCH, server_side_merge=True)

    def __init__(self, api_key: str, *, api_url: str, timeout: float, pool_size: int) -> None:
        self.http = HttpTransport(
            self.name,
            api_url,
            timeout=timeout,
            pool_size=pool_size,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        )

    def payload(self, batch: Batch) -> dict[str, Any]:
        """The request body: shared content once, one personalization per recipient."""
        merge = server_merge(batch, _tag)
        shared = set(batch.headers)

        def personalization(recipient: Recipient) -> dict[str, Any]:
            address = recipient.to_address()
            to: dict[str, str] = {"email": recipient.email}
            if address.display_name:
                to["name"] = address.display_name
            own = {k: v for k, v in batch.all_headers(recipient).items() if k not in shared}
            return {
                "to": [to],
                "substitutions": {_tag(k): v for k, v in merge.values(recipient).items()},
                "headers": {"Message-ID": recipient.message_id, **own},
                "custom_args": {"delivery_id": str(recipient.delivery_id)},
            }

        sender: dict[str, str] = {"email": batch.sender.addr_spec}
        if batch.sender.display_name:
            sender["name"] = batch.sender.display_name
        return {
            "personalizations": [personalization(r) for r in batch.recipients],
            "from": sender,
            "subject": batch.checked_subject,
            "content": [
                {"type": "text/plain", "value": merge.text},
                {"type": "text/html", "value": merge.html},
            ],
            "headers": dict(batch.headers),
        }

    def prepare(self, batch: Batch) -> PreparedBatch:
        return PreparedBatch(batch, json.dumps(self.payload(batch)).encode())

    def send_batch(self, batch: Batch) -> list[SendResult]:
        return self.send_prepared(self.prepare(batch))

    def send_prepared(self, prepared: PreparedBatch) -> list[SendResult]:
        batch = prepared.batch
        response = self.http.post("/v3/mail/send", data=prepared.payload)
        if response.status_code not in (200, 202):
            raise PermanentProviderError(
                self.name,
                f"request refused (HTTP {response.status_code}): {excerpt(response.text)}",
                status_code=response.status_code,
                response=excerpt(response.text),
            )
        message_id = response.headers.get("X-Message-Id")
        return [
            SendResult(r.delivery_id, SendStatus.QUEUED, message_id, raw=str(response.status_code))
            for r in batch.recipients
        ]

    def close(self) -> None:
        self.http.close()
