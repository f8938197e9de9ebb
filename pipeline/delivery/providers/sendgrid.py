"""SendGrid: ``POST /v3/mail/send`` with up to 1,000 personalizations per call.

The HTML and text bodies travel once per call with ``-field-`` substitution tags; each
personalization carries the recipient's substitutions and own headers (List-Unsubscribe,
Message-ID). SendGrid accepts the whole call (202) or refuses it; it has no idempotency key
(https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send).

Quirks handled here:

* a display name with ``,`` or ``;`` makes SendGrid drop the recipient *after* answering
  202 (sendgrid/sendgrid-python#291): such names are not sent;
* a 400 names the offending field (``personalizations.3.to.0.email``): a bad address
  refuses the whole call, so it is reported as :class:`BadRecipientInBatch` naming that
  recipient, and the engine re-sends the others;
* the total request must stay under 30 MB ("The total size of your email, including
  attachments, must be less than 30MB").
"""

from __future__ import annotations

import json
import re
from typing import Any

from pipeline.delivery.message import Batch, Recipient, clean_display_name, server_merge
from pipeline.delivery.providers.addresses import ascii_email
from pipeline.delivery.providers.base import Capabilities, SendResult, SendStatus
from pipeline.delivery.providers.errors import BadRecipientInBatch, PermanentProviderError
from pipeline.delivery.providers.http import (
    HttpAnswer,
    HttpProvider,
    HttpRequest,
    RequestsTransport,
    Transport,
    excerpt,
)

MAX_BATCH = 1000
MAX_BYTES = 30 * 1000 * 1000
_RECIPIENT_FIELD = re.compile(r"^personalizations\.(\d+)\.(?:to|cc|bcc)\b")


def _tag(variable: str) -> str:
    return f"-pulse.{variable}-"


def safe_name(name: str | None) -> str | None:
    """A display name SendGrid will not silently drop the recipient for (or None)."""
    name = clean_display_name(name)
    if name is None or "," in name or ";" in name:
        return None
    return name


class SendGridProvider(HttpProvider):
    """Sends one call per batch with per-recipient personalizations."""

    name = "sendgrid"
    capabilities = Capabilities(max_batch=MAX_BATCH, server_side_merge=True, max_bytes=MAX_BYTES)

    def __init__(
        self,
        api_key: str,
        *,
        api_url: str,
        timeout: float,
        pool_size: int,
        transport: Transport | None = None,
    ) -> None:
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

    def payload(self, batch: Batch) -> dict[str, Any]:
        """The request body: shared content once, one personalization per recipient."""
        merge = server_merge(batch, _tag)
        shared = set(batch.headers)

        def personalization(recipient: Recipient) -> dict[str, Any]:
            to: dict[str, str] = {"email": ascii_email(recipient.email)}
            name = safe_name(recipient.name)
            if name:
                to["name"] = name
            own = {k: v for k, v in batch.all_headers(recipient).items() if k not in shared}
            return {
                "to": [to],
                "substitutions": {_tag(k): v for k, v in merge.values(recipient).items()},
                "headers": {"Message-ID": recipient.message_id, **own},
                "custom_args": {"delivery_id": str(recipient.delivery_id)},
            }

        sender: dict[str, str] = {"email": ascii_email(batch.sender.addr_spec)}
        if sender_name := safe_name(batch.sender.display_name):
            sender["name"] = sender_name
        return {
            "personalizations": [personalization(r) for r in batch.recipients],
            "from": sender,
            "subject": batch.checked_subject,
            "content": [
                {"type": "text/plain", "value": merge.text},
                {"type": "text/html", "value": merge.html},
            ],
            "headers": dict(batch.checked_headers),
        }

    def request(self, batch: Batch) -> HttpRequest:
        return HttpRequest("/v3/mail/send", json.dumps(self.payload(batch)).encode())

    def parse(self, batch: Batch, answer: HttpAnswer) -> list[SendResult]:
        if answer.status in (200, 202):
            message_id = answer.header("X-Message-Id")
            return [
                SendResult(r.delivery_id, SendStatus.QUEUED, message_id, raw=str(answer.status))
                for r in batch.recipients
            ]
        culprits = _bad_recipients(batch, answer)
        if culprits:
            ids, reason = culprits
            raise BadRecipientInBatch(
                self.name,
                reason,
                delivery_ids=ids,
                status_code=answer.status,
                response=excerpt(answer.text),
            )
        raise PermanentProviderError(
            self.name,
            f"request refused (HTTP {answer.status}): {excerpt(answer.text)}",
            status_code=answer.status,
            response=excerpt(answer.text),
        )


def _bad_recipients(batch: Batch, answer: HttpAnswer) -> tuple[list[int], str] | None:
    """The recipients a 400 blames, from its ``errors[].field`` (None: not a recipient's)."""
    if answer.status != 400:
        return None
    data = answer.json()
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list) or not errors:
        return None
    ids: list[int] = []
    reasons: list[str] = []
    for error in errors:
        if not isinstance(error, dict):
            return None
        found = _RECIPIENT_FIELD.match(str(error.get("field") or ""))
        if found is None:
            return None  # something else is wrong too: not only a bad address
        index = int(found.group(1))
        if index >= len(batch.recipients):
            return None
        ids.append(batch.recipients[index].delivery_id)
        reasons.append(str(error.get("message") or "invalid address"))
    return ids, "; ".join(dict.fromkeys(reasons))
