"""Resend: ``POST /emails/batch``, up to 100 messages per call, with an ``Idempotency-Key``.

The key is derived from the batch's delivery rows (:attr:`Batch.idempotency_key`), and the
outbox hands a crashed batch out again with exactly the same rows, so a repeated call is
answered from Resend's 24-hour idempotency store instead of being delivered twice.
"""

from __future__ import annotations

from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.providers.base import (
    Capabilities,
    PreparedBatch,
    Provider,
    SendResult,
    SendStatus,
)
from pipeline.delivery.providers.http import HttpTransport, excerpt
from pipeline.delivery.providers.jsonbody import (
    ChunkedBody,
    EscapedBodies,
    json_object_items,
    json_string,
)
from pipeline.errors import PermanentProviderError, TransientProviderError

MAX_BATCH = 100
# Resend's default limit is 2 requests per second: 200 messages per second in full batches.
DEFAULT_RATE = 200.0


class ResendProvider(Provider):
    """Sends fully rendered messages in batches of at most 100."""

    name = "resend"
    capabilities = Capabilities(
        max_batch=MAX_BATCH, idempotency_key=True, default_rate=DEFAULT_RATE
    )

    def __init__(self, api_key: str, *, api_url: str, timeout: float, pool_size: int) -> None:
        self.bodies = EscapedBodies()
        self.http = HttpTransport(
            self.name,
            api_url,
            timeout=timeout,
            pool_size=pool_size,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        )

    def message(self, batch: Batch, recipient: Recipient) -> str:
        """One email of the batch request body, as JSON text."""
        return b"".join(self._message_chunks(batch, recipient)).decode()

    def _message_chunks(self, batch: Batch, recipient: Recipient) -> list[bytes]:
        headers = {"Message-ID": recipient.message_id, **batch.all_headers(recipient)}
        head = (
            f'{{"from":{json_string(str(batch.sender))},'
            f'"to":[{json_string(str(recipient.to_address()))}],'
            f'"subject":{json_string(batch.checked_subject)},"html":"'
        )
        tail = (
            f'","headers":{{{json_object_items(headers)}}},'
            f'"tags":[{{"name":"delivery_id","value":"{recipient.delivery_id}"}}]}}'
        )
        chunks = [head.encode()]
        chunks += self.bodies.html(batch.html, recipient.values)
        chunks.append(b'","text":"')
        chunks += self.bodies.text(batch.text, recipient.values)
        chunks.append(tail.encode())
        return chunks

    def prepare(self, batch: Batch) -> PreparedBatch:
        chunks = [b"["]
        for index, recipient in enumerate(batch.recipients):
            if index:
                chunks.append(b",")
            chunks += self._message_chunks(batch, recipient)
        chunks.append(b"]")
        return PreparedBatch(batch, ChunkedBody(chunks))

    def send_batch(self, batch: Batch) -> list[SendResult]:
        return self.send_prepared(self.prepare(batch))

    def send_prepared(self, prepared: PreparedBatch) -> list[SendResult]:
        batch = prepared.batch
        response = self.http.post(
            "/emails/batch",
            data=prepared.payload,
            headers={"Idempotency-Key": batch.idempotency_key},
        )
        if response.status_code == 409 and "concurrent" in response.text:
            # The same key is still being processed (a retry raced the original): ask again.
            raise TransientProviderError(
                self.name, "the same batch is still in progress", status_code=409, retry_after=1.0
            )
        if response.status_code != 200:
            raise PermanentProviderError(
                self.name,
                f"batch refused (HTTP {response.status_code}): {excerpt(response.text)}",
                status_code=response.status_code,
                response=excerpt(response.text),
            )
        try:
            data = response.json().get("data")
        except (ValueError, AttributeError):
            data = None
        if not isinstance(data, list):
            data = []
        results = []
        for i, recipient in enumerate(batch.recipients):
            entry = data[i] if i < len(data) else None
            if isinstance(entry, dict) and entry.get("id"):
                results.append(
                    SendResult(recipient.delivery_id, SendStatus.QUEUED, str(entry["id"]))
                )
            else:
                results.append(
                    SendResult(recipient.delivery_id, SendStatus.UNKNOWN, error="no id from Resend")
                )
        return results

    def close(self) -> None:
        self.http.close()
