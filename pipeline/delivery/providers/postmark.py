"""Postmark: ``POST /email/batch``, up to 500 fully rendered messages per call.

Postmark answers HTTP 200 even when some messages fail, so every result's ``ErrorCode`` is
read: 0 accepted, 406 inactive recipient (suppress the address), 300 invalid request.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.providers.base import (
    Capabilities,
    PreparedBatch,
    Provider,
    SendResult,
    SendStatus,
)
from pipeline.delivery.providers.http import HttpTransport, excerpt
from pipeline.errors import PermanentProviderError

MAX_BATCH = 500
INACTIVE_RECIPIENT = 406
INVALID_CODES = frozenset({300})


class PostmarkProvider(Provider):
    """Sends batches through Postmark's batch endpoint on a (broadcast) message stream."""

    name = "postmark"
    capabilities = Capabilities(max_batch=MAX_BATCH)

    def __init__(
        self, token: str, *, stream: str, api_url: str, timeout: float, pool_size: int
    ) -> None:
        self.stream = stream
        self.http = HttpTransport(
            self.name,
            api_url,
            timeout=timeout,
            pool_size=pool_size,
            headers={
                "X-Postmark-Server-Token": token,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )

    def message(self, batch: Batch, recipient: Recipient) -> dict[str, Any]:
        """One entry of the batch request body."""
        headers = [{"Name": "Message-ID", "Value": recipient.message_id}]
        headers += [{"Name": k, "Value": v} for k, v in batch.all_headers(recipient).items()]
        return {
            "From": str(batch.sender),
            "To": str(recipient.to_address()),
            "Subject": batch.checked_subject,
            "HtmlBody": batch.html_for(recipient),
            "TextBody": batch.text_for(recipient),
            "Headers": headers,
            "MessageStream": self.stream,
            "Metadata": {"delivery_id": str(recipient.delivery_id)},
        }

    def body(self, batch: Batch) -> bytes:
        """The JSON array, encoded message by message so only the bytes are kept."""
        parts = [json.dumps(self.message(batch, r)).encode() for r in batch.recipients]
        return b"[" + b",".join(parts) + b"]"

    def prepare(self, batch: Batch) -> PreparedBatch:
        return PreparedBatch(batch, self.body(batch))

    def send_batch(self, batch: Batch) -> list[SendResult]:
        return self.send_prepared(self.prepare(batch))

    def send_prepared(self, prepared: PreparedBatch) -> list[SendResult]:
        batch = prepared.batch
        response = self.http.post("/email/batch", data=prepared.payload)
        if response.status_code != 200:
            raise PermanentProviderError(
                self.name,
                f"batch refused (HTTP {response.status_code}): {excerpt(response.text)}",
                status_code=response.status_code,
                response=excerpt(response.text),
            )
        try:
            answers = response.json()
        except ValueError:
            answers = None
        if not isinstance(answers, list):
            answers = []
        return [
            _result(recipient, answers[i] if i < len(answers) else None)
            for i, recipient in enumerate(batch.recipients)
        ]

    def close(self) -> None:
        self.http.close()


def _result(recipient: Recipient, answer: object) -> SendResult:
    if not isinstance(answer, dict):
        return SendResult(
            recipient.delivery_id, SendStatus.UNKNOWN, error="no result from Postmark"
        )
    raw = json.dumps(answer)
    code = answer.get("ErrorCode")
    message = str(answer.get("Message", ""))
    if code == 0:
        return SendResult(
            recipient.delivery_id, SendStatus.SENT, str(answer.get("MessageID") or ""), raw=raw
        )
    if code == INACTIVE_RECIPIENT:
        return SendResult(
            recipient.delivery_id,
            SendStatus.REJECTED,
            error=f"Postmark 406: {message}",
            raw=raw,
            suppress=True,
        )
    if code in INVALID_CODES:
        return SendResult(
            recipient.delivery_id, SendStatus.INVALID, error=f"Postmark {code}: {message}", raw=raw
        )
    if isinstance(code, int):
        return SendResult(
            recipient.delivery_id, SendStatus.REJECTED, error=f"Postmark {code}: {message}", raw=raw
        )
    return SendResult(
        recipient.delivery_id, SendStatus.UNKNOWN, error=f"Postmark: {excerpt(raw)}", raw=raw
    )
