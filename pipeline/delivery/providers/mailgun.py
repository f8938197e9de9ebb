"""Mailgun: ``POST /v3/{domain}/messages`` as a batch send with ``recipient-variables``.

Up to 1,000 recipients per call; the body travels once with ``%recipient.field%`` markers and
Mailgun sends each recipient their own message
(https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/batch-sending).
The EU region is chosen by ``PULSE_MAILGUN_API_URL=https://api.eu.mailgun.net``; a URL
written the way Mailgun's docs write it, ending in ``/v3``, is accepted too. No idempotency
key. Quirks handled here:

* Mailgun answers HTTP 200 "Mailgun Magnificent API" to a path it does not know (a wrong
  base URL or domain): only a JSON answer with an ``id`` and a ``message`` starting
  "Queued" counts as accepted (as django-anymail's Mailgun backend checks);
* per-recipient headers are ``h:Name`` fields whose value is ``%recipient.h:Name%``, the
  value itself in that recipient's variables under ``h:Name`` (the convention
  django-anymail's ``merge_headers`` uses for Mailgun);
* every message carries our own Message-ID (``h:Message-Id``), and that per-recipient id is
  what is stored, so bounce and complaint events match their delivery;
* one invalid address refuses the whole call (400): :class:`BadRecipientInBatch`, without
  naming it, and the engine splits the batch to find it;
* a message may be at most 25 MB.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from urllib3 import encode_multipart_formdata

from pipeline.delivery.message import Batch, server_merge
from pipeline.delivery.providers.addresses import ascii_email, header_address
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
MAX_BYTES = 25 * 1000 * 1000
# Mailgun's 400 for an address it cannot parse: "to parameter is not a valid address.
# please check documentation" (and the same for cc/bcc).
_BAD_ADDRESS = re.compile(r"\b(to|cc|bcc)\b.*not a valid address", re.IGNORECASE)


def _marker(variable: str) -> str:
    return f"%recipient.{variable}%"


def base_url(api_url: str) -> str:
    """The API root without a trailing ``/v3`` (the adapter adds ``/v3/{domain}``)."""
    url = api_url.rstrip("/")
    return url[: -len("/v3")] if url.endswith("/v3") else url


class MailgunProvider(HttpProvider):
    """One multipart call per batch; Mailgun fans it out per recipient."""

    name = "mailgun"
    capabilities = Capabilities(max_batch=MAX_BATCH, server_side_merge=True, max_bytes=MAX_BYTES)

    def __init__(
        self,
        api_key: str,
        *,
        domain: str,
        api_url: str,
        timeout: float,
        pool_size: int,
        transport: Transport | None = None,
    ) -> None:
        self.domain = domain
        super().__init__(
            transport
            or RequestsTransport(
                self.name,
                base_url(api_url),
                timeout=timeout,
                pool_size=pool_size,
                auth=("api", api_key),
            )
        )

    def form(self, batch: Batch) -> list[tuple[str, str]]:
        """The multipart fields, in order (``to`` repeats once per recipient)."""
        merge = server_merge(batch, _marker)
        variables: dict[str, dict[str, str]] = {}
        sender = header_address(batch.sender.display_name, ascii_email(batch.sender.addr_spec))
        fields: list[tuple[str, str]] = [
            ("from", sender),
            ("subject", batch.checked_subject),
            ("text", merge.text),
            ("html", merge.html),
        ]
        own_headers: set[str] = set()
        for recipient in batch.recipients:
            fields.append(("to", header_address(recipient.name, recipient.email)))
            headers = batch.all_headers(recipient)
            values = merge.values(recipient)
            values["message_id"] = recipient.message_id
            values["delivery_id"] = str(recipient.delivery_id)
            for name in recipient.headers:
                values[f"h:{name}"] = headers[name]
                own_headers.add(name)
            # Recipient variables are keyed by the plain address as sent in ``to``.
            variables[ascii_email(recipient.email)] = values
        fields.append(("h:Message-Id", _marker("message_id")))
        for name, value in batch.checked_headers.items():
            if name not in own_headers:
                fields.append((f"h:{name}", value))
        for name in sorted(own_headers):
            fields.append((f"h:{name}", _marker(f"h:{name}")))
        fields.append(("v:delivery_id", _marker("delivery_id")))
        fields.append(("recipient-variables", json.dumps(variables, separators=(",", ":"))))
        return fields

    def request(self, batch: Batch) -> HttpRequest:
        # Multipart, as the API describes; every field is a plain form part.
        parts: list[tuple[str, str | bytes]] = list(self.form(batch))
        body, content_type = encode_multipart_formdata(parts)
        return HttpRequest(
            f"/v3/{quote(self.domain, safe='')}/messages",
            body,
            {"Content-Type": content_type},
        )

    def parse(self, batch: Batch, answer: HttpAnswer) -> list[SendResult]:
        data = answer.json()
        if answer.status == 200:
            queued = (
                isinstance(data, dict)
                and bool(data.get("id"))
                and str(data.get("message", "")).startswith("Queued")
            )
            if not queued:
                # Not the messages endpoint: nothing was sent. A setting is wrong.
                raise PermanentProviderError(
                    self.name,
                    "HTTP 200 but not a 'Queued' answer: check PULSE_MAILGUN_API_URL and "
                    f"PULSE_MAILGUN_DOMAIN ({excerpt(answer.text)})",
                    status_code=200,
                    response=excerpt(answer.text),
                )
            raw = excerpt(answer.text)
            return [
                SendResult(r.delivery_id, SendStatus.QUEUED, r.message_id, raw=raw)
                for r in batch.recipients
            ]
        message = str(data.get("message", "")) if isinstance(data, dict) else answer.text
        if answer.status == 400 and _BAD_ADDRESS.search(message):
            raise BadRecipientInBatch(
                self.name, message, status_code=400, response=excerpt(answer.text)
            )
        raise PermanentProviderError(
            self.name,
            f"request refused (HTTP {answer.status}): {excerpt(answer.text)}",
            status_code=answer.status,
            response=excerpt(answer.text),
        )
