"""Mailgun: ``POST /v3/{domain}/messages`` as a batch send with ``recipient-variables``.

Up to 1,000 recipients per call; the body travels once with ``%recipient.field%`` markers and
Mailgun sends each recipient their own message. The EU region is chosen by
``PULSE_MAILGUN_API_URL=https://api.eu.mailgun.net``. No idempotency key.
"""

from __future__ import annotations

import json
from typing import cast
from urllib.parse import quote

from urllib3 import encode_multipart_formdata

from pipeline.delivery.message import Batch, server_merge
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


def _marker(variable: str) -> str:
    return f"%recipient.{variable}%"


class MailgunProvider(Provider):
    """One multipart call per batch; Mailgun fans it out per recipient."""

    name = "mailgun"
    capabilities = Capabilities(max_batch=MAX_BATCH, server_side_merge=True)

    def __init__(
        self, api_key: str, *, domain: str, api_url: str, timeout: float, pool_size: int
    ) -> None:
        self.domain = domain
        self.http = HttpTransport(
            self.name, api_url, timeout=timeout, pool_size=pool_size, auth=("api", api_key)
        )

    def form(self, batch: Batch) -> list[tuple[str, str]]:
        """The multipart fields, in order (``to`` repeats once per recipient)."""
        merge = server_merge(batch, _marker)
        variables: dict[str, dict[str, str]] = {}
        fields: list[tuple[str, str]] = [
            ("from", str(batch.sender)),
            ("subject", batch.checked_subject),
            ("text", merge.text),
            ("html", merge.html),
        ]
        own_headers: set[str] = set()
        for recipient in batch.recipients:
            fields.append(("to", str(recipient.to_address())))
            headers = batch.all_headers(recipient)
            values = merge.values(recipient)
            values["message_id"] = recipient.message_id
            values["delivery_id"] = str(recipient.delivery_id)
            for name in recipient.headers:
                values[f"h.{name}"] = headers[name]
                own_headers.add(name)
            variables[recipient.email] = values
        fields.append(("h:Message-Id", _marker("message_id")))
        for name, value in batch.headers.items():
            if name not in own_headers:
                fields.append((f"h:{name}", value))
        for name in sorted(own_headers):
            fields.append((f"h:{name}", _marker(f"h.{name}")))
        fields.append(("v:delivery_id", _marker("delivery_id")))
        fields.append(("recipient-variables", json.dumps(variables, separators=(",", ":"))))
        return fields

    def prepare(self, batch: Batch) -> PreparedBatch:
        # Multipart, as the API describes; every field is a plain form part.
        fields: list[tuple[str, str | bytes]] = list(self.form(batch))
        body, content_type = encode_multipart_formdata(fields)
        return PreparedBatch(batch, (body, content_type))

    def send_batch(self, batch: Batch) -> list[SendResult]:
        return self.send_prepared(self.prepare(batch))

    def send_prepared(self, prepared: PreparedBatch) -> list[SendResult]:
        batch = prepared.batch
        body, content_type = cast(tuple[bytes, str], prepared.payload)
        response = self.http.post(
            f"/v3/{quote(self.domain)}/messages",
            data=body,
            headers={"Content-Type": content_type},
        )
        if response.status_code != 200:
            raise PermanentProviderError(
                self.name,
                f"request refused (HTTP {response.status_code}): {excerpt(response.text)}",
                status_code=response.status_code,
                response=excerpt(response.text),
            )
        try:
            message_id = str(response.json().get("id") or "") or None
        except (ValueError, AttributeError):
            message_id = None
        return [
            SendResult(r.delivery_id, SendStatus.QUEUED, message_id, raw=excerpt(response.text))
            for r in batch.recipients
        ]

    def close(self) -> None:
        self.http.close()
