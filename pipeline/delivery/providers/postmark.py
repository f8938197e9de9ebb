"""Postmark: ``POST /email/batch``, up to 500 fully rendered messages and 50 MB per call.

Postmark answers HTTP 200 even when some messages fail, so every result is read
(https://postmarkapp.com/developer/api/email-api#send-batch-emails, error codes at
https://postmarkapp.com/developer/api/overview#error-codes):

* ``ErrorCode`` 0, or a ``MessageID`` with no ``ErrorCode`` ("Message accepted, but delivery
  may be delayed."): accepted;
* 406 inactive recipient: refused for good, and the address is suppressed;
* 300 naming the recipient (To/Cc/Bcc): that address is invalid;
* account and sender codes (10 bad token, 400/401 sender signature, 405 out of credits,
  412 account pending approval, 413 account may not send, 300 naming From or metadata…):
  the whole send must stop; what was already accepted is kept, nobody else is failed.

Issues go out on ``PULSE_POSTMARK_STREAM`` (a broadcast stream); confirmations, welcomes
and editor reports on ``PULSE_POSTMARK_TRANSACTIONAL_STREAM``. Postmark has no
idempotency key.
"""

from __future__ import annotations

import json
import re

from pipeline.delivery.message import Batch, Recipient, check_header_value
from pipeline.delivery.providers.addresses import ascii_email, header_address
from pipeline.delivery.providers.base import Capabilities, SendResult, SendStatus
from pipeline.delivery.providers.errors import PermanentProviderError
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
    json_headers,
    json_string,
)

MAX_BATCH = 500
MAX_BYTES = 50 * 1000 * 1000  # "no more than 50 MB in size, including attachments"
INACTIVE_RECIPIENT = 406
INVALID_REQUEST = 300
# Codes about the account, the sender or our request as a whole: stop the send.
ACCOUNT_CODES = frozenset({10, 400, 401, 402, 403, 405, 409, 410, 412, 413, 1235, 1236})
# A 300 is per recipient only when Postmark's message names a recipient field.
_RECIPIENT_FIELD = re.compile(r"\b(to|cc|bcc)\b", re.IGNORECASE)
_SENDER_FIELD = re.compile(r"\b(from|sender|metadata|reply-?to|header)", re.IGNORECASE)


class PostmarkProvider(HttpProvider):
    """Sends batches through Postmark's batch endpoint on a (broadcast) message stream."""

    name = "postmark"
    capabilities = Capabilities(max_batch=MAX_BATCH, max_bytes=MAX_BYTES)

    def __init__(
        self,
        token: str,
        *,
        stream: str,
        api_url: str,
        timeout: float,
        pool_size: int,
        transactional_stream: str = "outbound",
        transport: Transport | None = None,
    ) -> None:
        self.stream = stream
        self.transactional_stream = transactional_stream
        self.bodies = EscapedBodies()
        super().__init__(
            transport
            or RequestsTransport(
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
        to = header_address(recipient.name, recipient.email)
        head = f'{{"To":{json_string(to)},{fields}"HtmlBody":"'
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

    def stream_for(self, batch: Batch) -> str:
        """Transactional mail must not ride the broadcast stream (and its unsubscribe footer)."""
        return self.transactional_stream if batch.transactional else self.stream

    def _shared(self, batch: Batch) -> tuple[str, str]:
        sender = header_address(batch.sender.display_name, ascii_email(batch.sender.addr_spec))
        fields = (
            f'"From":{json_string(sender)},'
            f'"Subject":{json_string(batch.checked_subject)},'
            f'"MessageStream":{json_string(self.stream_for(batch))},'
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

    def request(self, batch: Batch) -> HttpRequest:
        return HttpRequest("/email/batch", ChunkedBody(self.chunks(batch)))

    def parse(self, batch: Batch, answer: HttpAnswer) -> list[SendResult]:
        data = answer.json()
        if answer.status != 200:
            # A whole-call refusal (422 with an ErrorCode): nothing in it was sent.
            code = data.get("ErrorCode") if isinstance(data, dict) else None
            raise PermanentProviderError(
                self.name,
                f"batch refused (HTTP {answer.status}, ErrorCode {code}): {excerpt(answer.text)}",
                status_code=answer.status,
                response=excerpt(answer.text),
            )
        answers = data if isinstance(data, list) else []
        results: list[SendResult] = []
        stops: list[str] = []
        for i, recipient in enumerate(batch.recipients):
            entry = answers[i] if i < len(answers) else None
            refusal = _account_refusal(entry)
            if refusal is None:
                results.append(_result(recipient, entry))
            else:
                stops.append(refusal)
        if stops:
            raise PermanentProviderError(
                self.name,
                f"the account or sender was refused: {stops[0]}",
                status_code=answer.status,
                response=excerpt(answer.text),
                partial=[r for r in results if r.status is not SendStatus.UNKNOWN],
            )
        return results


def _account_refusal(answer: object) -> str | None:
    """The error when Postmark refused this entry for the account or sender, not the address."""
    if not isinstance(answer, dict):
        return None
    code = answer.get("ErrorCode")
    message = str(answer.get("Message", ""))
    if code in ACCOUNT_CODES or (
        code == INVALID_REQUEST
        and _SENDER_FIELD.search(message)
        and not _RECIPIENT_FIELD.search(message)
    ):
        return f"Postmark {code}: {message}"
    return None


def _result(recipient: Recipient, answer: object) -> SendResult:
    delivery = recipient.delivery_id
    if not isinstance(answer, dict):
        return SendResult(delivery, SendStatus.UNKNOWN, error="no result from Postmark")
    raw = json.dumps(answer)
    code = answer.get("ErrorCode")
    message = str(answer.get("Message", ""))
    message_id = str(answer.get("MessageID") or "") or None
    if code == 0 or (code is None and message_id):
        # Includes "Message accepted, but delivery may be delayed." (no ErrorCode at all).
        return SendResult(delivery, SendStatus.SENT, message_id, raw=raw)
    error = f"Postmark {code}: {message}"
    if code == INACTIVE_RECIPIENT:
        return SendResult(delivery, SendStatus.REJECTED, error=error, raw=raw, suppress=True)
    if code == INVALID_REQUEST:
        return SendResult(delivery, SendStatus.INVALID, error=error, raw=raw)
    if isinstance(code, int):
        # Refused with a code we do not know: nothing was sent, so trying later is safe.
        return SendResult(delivery, SendStatus.FAILED, error=error, raw=raw)
    return SendResult(delivery, SendStatus.UNKNOWN, error=f"Postmark: {excerpt(raw)}", raw=raw)
