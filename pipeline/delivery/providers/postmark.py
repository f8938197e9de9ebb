"""Postmark: ``POST /email/batch``, up to 500 fully rendered messages per call.

Postmark answers HTTP 200 even when some messages fail, so every result's ``ErrorCode`` is
read: 0 accepted, 406 inactive recipient (suppress the address), 300 invalid request.
"""

from __future__ import annotations

import json

from pipeline.delivery.message import Batch, Recipient, check_header_value
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
    json_headers,
    json_string,
)
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
        self.bodies = EscapedBodies()
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

    def message(self, batch: Batch, recipient: Recipient) -> str:
        """One entry of the batch request body, as JSON text."""
        return b"".join(self._message_chunks(batch, recipient, self._shared(batch))).decode()

    def _message_chunks(
        self, batch: Batch, recipient: Recipient, shared: tuple[str, str]
    ) -> list[bytes]:
        fields, batch_headers = shared
        own = {name: check_header_value(name, v) for name, v in recipient.headers.items()}
        headers = json_headers({"Message-ID": recipient.message_id, **own})
        head = f'{{"To":{json_string(str(recipient.to_address()))},{fields}"HtmlBody":"'
        tail = (
            f'","Headers":[{headers}{batch_headers}],'
            f'"Metadata":{{"delivery_id":"{recipient.delivery_id}"}}}}'
        )
        chunks = [head.encode()]
        chunks += self.bodies.html(batch.html, recipient.values)
        chunks.append(b'","TextBody":"')
        chunks += self.bodies.text(batch.text, recipient.values)
        chunks.append(tail.encode())
        return chunks

    def _shared(self, batch: Batch) -> tuple[str, str]:
        fields = (
            f'"From":{json_string(str(batch.sender))},'
            f'"Subject":{json_string(batch.checked_subject)},'
            f'"MessageStream":{json_string(self.stream)},'
        )
        headers = json_headers(batch.checked_headers)
        return fields, f",{headers}" if headers else ""

    def chunks(self, batch: Batch) -> list[bytes]:
        """The JSON array of every recipient's message, as chunks sharing the issue's parts."""
        shared = self._shared(batch)
        chunks = [b"["]
        for index, recipient in enumerate(batch.recipients):
            if index:
                chunks.append(b",")
            chunks += self._message_chunks(batch, recipient, shared)
        chunks.append(b"]")
        return chunks

    def body(self, batch: Batch) -> bytes:
        """The whole request body as bytes."""
        return b"".join(self.chunks(batch))

    def prepare(self, batch: Batch) -> PreparedBatch:
        return PreparedBatch(batch, ChunkedBody(self.chunks(batch)))

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
