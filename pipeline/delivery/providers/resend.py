"""Resend: ``POST /emails/batch``, up to 100 messages per call, with an ``Idempotency-Key``.

The key is derived from the batch's Message-IDs, so it is unique per distinct set of messages
(every confirmation and every desk test send gets its own) and stable across retries of the
same one: the outbox hands a crashed batch out again with exactly the same rows, and Resend
answers the repeat from its 24-hour idempotency store instead of delivering it twice
(https://resend.com/docs/dashboard/emails/idempotency-keys).

Batches go out with ``x-batch-validation: permissive``
(https://resend.com/docs/dashboard/emails/batch-validation-modes): one invalid email no
longer refuses the whole batch; Resend queues the valid ones (``data``) and lists the
others by index (``errors``).
"""

from __future__ import annotations

import hashlib

from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.providers.addresses import ascii_email, plain_address
from pipeline.delivery.providers.base import Capabilities, SendResult, SendStatus
from pipeline.delivery.providers.errors import PermanentProviderError, TransientProviderError
from pipeline.delivery.providers.http import (
    HttpAnswer,
    HttpProvider,
    HttpRequest,
    RequestsTransport,
    Transport,
    excerpt,
)
from pipeline.delivery.providers.jsonbody import (
    ChunkedBody,
    EscapedBodies,
    json_object_items,
    json_string,
)

MAX_BATCH = 100
MAX_BYTES = 40 * 1000 * 1000  # "up to 40MB" per email, attachments included
# Resend's default limit is 2 requests per second: 200 messages per second in full batches.
DEFAULT_RATE = 200.0


def idempotency_key(batch: Batch) -> str:
    """Stable for the same messages, different for any other (at most Resend's 256 chars)."""
    ids = "\n".join(r.message_id for r in batch.recipients)
    return hashlib.sha256(f"{batch.key}\n{ids}".encode()).hexdigest()[:48]


class ResendProvider(HttpProvider):
    """Sends fully rendered messages in batches of at most 100."""

    name = "resend"
    capabilities = Capabilities(
        max_batch=MAX_BATCH, idempotency_key=True, default_rate=DEFAULT_RATE, max_bytes=MAX_BYTES
    )

    def __init__(
        self,
        api_key: str,
        *,
        api_url: str,
        timeout: float,
        pool_size: int,
        transport: Transport | None = None,
    ) -> None:
        self.bodies = EscapedBodies()
        super().__init__(
            transport
            or RequestsTransport(
                self.name,
                api_url,
                timeout=timeout,
                pool_size=pool_size,
                headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            )
        )

    def message(self, batch: Batch, recipient: Recipient) -> str:
        """One email of the batch request body, as JSON text."""
        return b"".join(self._message_chunks(batch, recipient)).decode()

    def _message_chunks(self, batch: Batch, recipient: Recipient) -> list[bytes]:
        headers = {"Message-ID": recipient.message_id, **batch.all_headers(recipient)}
        sender = plain_address(batch.sender.display_name, ascii_email(batch.sender.addr_spec))
        head = (
            f'{{"from":{json_string(sender)},'
            f'"to":[{json_string(plain_address(recipient.name, recipient.email))}],'
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

    def request(self, batch: Batch) -> HttpRequest:
        chunks = [b"["]
        for index, recipient in enumerate(batch.recipients):
            if index:
                chunks.append(b",")
            chunks += self._message_chunks(batch, recipient)
        chunks.append(b"]")
        headers = {"Idempotency-Key": idempotency_key(batch), "x-batch-validation": "permissive"}
        return HttpRequest("/emails/batch", ChunkedBody(chunks), headers)

    def parse(self, batch: Batch, answer: HttpAnswer) -> list[SendResult]:
        data = answer.json()
        name = str(data.get("name", "")) if isinstance(data, dict) else ""
        if answer.status == 409 and name == "concurrent_idempotent_requests":
            # The same key is still being processed (a retry raced the original): ask again.
            raise TransientProviderError(
                self.name, "the same batch is still in progress", status_code=409, retry_after=1.0
            )
        if answer.status != 200 or not isinstance(data, dict):
            raise PermanentProviderError(
                self.name,
                f"batch refused (HTTP {answer.status}): {excerpt(answer.text)}",
                status_code=answer.status,
                response=excerpt(answer.text),
            )
        errors: dict[int, str] = {}
        for error in data.get("errors") or []:
            if isinstance(error, dict) and isinstance(error.get("index"), int):
                errors[error["index"]] = str(error.get("message", "invalid"))
        created = [e for e in data.get("data") or [] if isinstance(e, dict)]
        # ``data`` lists the created emails in request order, skipping the refused ones.
        results = []
        for index, recipient in enumerate(batch.recipients):
            if index in errors:
                results.append(
                    SendResult(
                        recipient.delivery_id,
                        SendStatus.INVALID,
                        error=f"Resend: {errors[index]}",
                    )
                )
                continue
            entry = created.pop(0) if created else None
            if entry is not None and entry.get("id"):
                results.append(
                    SendResult(recipient.delivery_id, SendStatus.QUEUED, str(entry["id"]))
                )
            else:
                results.append(
                    SendResult(recipient.delivery_id, SendStatus.UNKNOWN, error="no id from Resend")
                )
        return results
