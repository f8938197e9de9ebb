"""Amazon SES v2: ``SendBulkEmail`` with inline template content, up to 50 entries per call.

The body travels once as ``TemplateContent`` with ``{{{field}}}`` markers (values arrive
already escaped for their part); each entry carries ``ReplacementTemplateData`` and its own
``ReplacementHeaders``. Requests are built, SigV4-signed and parsed by botocore's own client
and service model; credentials come from the standard AWS chain (variables, profile, role).
SES sets its own Message-ID, which becomes the delivery's provider message id.

Quirks handled here (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendBulkEmail.html,
``BulkEmailEntryResult``):

* entries are answered one by one: ``SUCCESS`` entries are kept even when another entry
  says the account cannot send (``ACCOUNT_DAILY_QUOTA_EXCEEDED``, ``ACCOUNT_SENDING_PAUSED``
  …); the send then stops with those successes recorded;
* addresses: "the local part … can contain only 7-bit ASCII characters"; the domain goes in
  punycode and display names as RFC 2047 encoded words, as SES asks;
* a template that fails to render is reported by SES as success and never sent: the
  configuration set (``PULSE_SES_CONFIGURATION_SET``) is passed so its event destination
  reports "Rendering Failure" events.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from pipeline.delivery.message import Batch, Recipient, server_merge
from pipeline.delivery.providers.addresses import ascii_email, header_address, needs_smtputf8
from pipeline.delivery.providers.base import (
    Capabilities,
    PreparedBatch,
    Provider,
    SendResult,
    SendStatus,
)
from pipeline.delivery.providers.errors import PermanentProviderError, TransientProviderError
from pipeline.delivery.providers.http import parse_retry_hint
from pipeline.errors import ConfigError

MAX_BATCH = 50
MAX_BYTES = 40 * 1000 * 1000  # SES v2: messages up to 40 MB
# A new SES account may send 14 messages per second; PULSE_SEND_RATE raises it.
DEFAULT_RATE = 14.0
RETRY_STATUSES = frozenset({"TRANSIENT_FAILURE", "ACCOUNT_THROTTLED", "FAILED"})
ACCOUNT_STATUSES = frozenset(
    {
        "MAIL_FROM_DOMAIN_NOT_VERIFIED",
        "CONFIGURATION_SET_NOT_FOUND",
        "TEMPLATE_NOT_FOUND",
        "ACCOUNT_SUSPENDED",
        "ACCOUNT_DAILY_QUOTA_EXCEEDED",
        "INVALID_SENDING_POOL_NAME",
        "ACCOUNT_SENDING_PAUSED",
        "CONFIGURATION_SET_SENDING_PAUSED",
    }
)


def _marker(variable: str) -> str:
    return "{{{" + variable + "}}}"


class SesProvider(Provider):
    """Sends each batch as one SendBulkEmail call."""

    name = "ses"
    capabilities = Capabilities(
        max_batch=MAX_BATCH, server_side_merge=True, default_rate=DEFAULT_RATE, max_bytes=MAX_BYTES
    )

    def __init__(
        self,
        *,
        region: str,
        api_url: str | None,
        timeout: float,
        pool_size: int,
        configuration_set: str | None = None,
    ) -> None:
        self.configuration_set = configuration_set
        session = botocore.session.get_session()
        if session.get_credentials() is None:
            raise ConfigError(
                "PULSE_PROVIDER=ses: no AWS credentials found (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
            )
        self.client: Any = session.create_client(
            "sesv2",
            region_name=region,
            endpoint_url=api_url,
            config=Config(
                # The engine owns retries and backoff; botocore must not retry on its own.
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=timeout,
                read_timeout=timeout,
                max_pool_connections=max(pool_size, 1),
            ),
        )

    def request(self, batch: Batch) -> dict[str, Any]:
        """The SendBulkEmail parameters, in botocore's shape."""
        merge = server_merge(batch, _marker)
        defaults = {name: "" for name in (*merge.text_names, *merge.html_names.values())}
        shared = set(batch.headers)

        def entry(recipient: Recipient) -> dict[str, Any]:
            own = {k: v for k, v in batch.all_headers(recipient).items() if k not in shared}
            return {
                "Destination": {"ToAddresses": [header_address(recipient.name, recipient.email)]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": json.dumps(merge.values(recipient))
                    }
                },
                "ReplacementHeaders": [{"Name": k, "Value": v} for k, v in own.items()],
                "ReplacementTags": [{"Name": "delivery_id", "Value": str(recipient.delivery_id)}],
            }

        sender = header_address(batch.sender.display_name, ascii_email(batch.sender.addr_spec))
        params: dict[str, Any] = {
            "FromEmailAddress": sender,
            "DefaultContent": {
                "Template": {
                    "TemplateContent": {
                        "Subject": batch.checked_subject,
                        "Html": merge.html,
                        "Text": merge.text,
                    },
                    "TemplateData": json.dumps(defaults),
                    "Headers": [{"Name": k, "Value": v} for k, v in batch.headers.items()],
                }
            },
            "BulkEmailEntries": [entry(r) for r in batch.recipients],
        }
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        return params

    def refuse(self, recipient: Recipient) -> str | None:
        if needs_smtputf8(recipient.email):
            return "SES takes only ASCII before the @ (this address needs SMTPUTF8)"
        return None

    def build(self, batch: Batch) -> object:
        params = self.request(batch)
        # SES has no request-size answer of its own: refuse locally what it would refuse.
        size = len(json.dumps(params))
        if size > MAX_BYTES:
            raise PermanentProviderError(
                self.name, f"the request is {size:,} bytes, over SES's {MAX_BYTES:,}"
            )
        return params

    def deliver(self, prepared: PreparedBatch) -> list[SendResult]:
        batch = prepared.batch
        params = cast(dict[str, Any], prepared.payload)
        try:
            answer = self.client.send_bulk_email(**params)
        except ClientError as err:
            raise _client_error(err) from err
        except (ConnectionError, HTTPClientError) as err:  # refused, dropped, timed out
            raise TransientProviderError(self.name, f"connection failed: {err}") from err
        except BotoCoreError as err:
            raise PermanentProviderError(self.name, str(err)) from err
        entries = answer.get("BulkEmailEntryResults") or []
        results = [
            _result(r, entries[i] if i < len(entries) else None)
            for i, r in enumerate(batch.recipients)
        ]
        stops = [e for e in entries if isinstance(e, dict) and e.get("Status") in ACCOUNT_STATUSES]
        if stops:
            # Keep what SES took (and refused per address); the rest goes back untouched.
            stop = stops[0]
            raise PermanentProviderError(
                self.name,
                f"{stop['Status']}: {stop.get('Error', '')}",
                response=str(stop),
                partial=[
                    r
                    for r, e in zip(results, entries, strict=False)
                    if not (isinstance(e, dict) and e.get("Status") in ACCOUNT_STATUSES)
                    and r.status is not SendStatus.UNKNOWN
                ],
            )
        return results

    def close(self) -> None:
        self.client.close()


def _client_error(err: ClientError) -> Exception:
    response: Any = err.response
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    code = str(response.get("Error", {}).get("Code", ""))
    message = str(response.get("Error", {}).get("Message", ""))
    if status == 429 or status >= 500 or code == "TooManyRequestsException":
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        hint = headers.get("retry-after")
        return TransientProviderError(
            "ses",
            f"{code or 'HTTP ' + str(status)}, will retry",
            status_code=status,
            retry_after=(parse_retry_hint(str(hint), time.time()) or 0.0) if hint else None,
        )
    return PermanentProviderError("ses", f"{code}: {message}", status_code=status)


def _result(recipient: Recipient, entry: Any) -> SendResult:
    if not isinstance(entry, dict):
        return SendResult(recipient.delivery_id, SendStatus.UNKNOWN, error="no result from SES")
    status = str(entry.get("Status", ""))
    raw = json.dumps(entry, default=str)
    error = f"SES {status}: {entry.get('Error', '')}"
    if status == "SUCCESS":
        return SendResult(recipient.delivery_id, SendStatus.SENT, entry.get("MessageId"), raw=raw)
    if status == "MESSAGE_REJECTED":
        return SendResult(recipient.delivery_id, SendStatus.REJECTED, error=error, raw=raw)
    if status == "INVALID_PARAMETER":
        return SendResult(recipient.delivery_id, SendStatus.INVALID, error=error, raw=raw)
    if status in RETRY_STATUSES:
        return SendResult(recipient.delivery_id, SendStatus.FAILED, error=error, raw=raw)
    return SendResult(recipient.delivery_id, SendStatus.UNKNOWN, error=error, raw=raw)
