"""The HTTP base every API adapter shares: transport, status rule, splitting, matching.

:class:`HttpProvider` owns what is the same for every HTTP provider, so each provider module
holds only its payload and quirks:

* the transport, a seam (:class:`Transport`) that tests replace with a handler function;
  the default is one pooled ``requests`` session (:class:`RequestsTransport`);
* the status rule: 429 and 5xx (and timeouts, dropped connections) are
  :class:`TransientProviderError` with the provider's capped retry hint; 401/403 are rejected
  credentials (:class:`PermanentProviderError`); every other answer goes to the adapter;
* splitting a batch into several calls when its body would pass the provider's documented
  size limit (``Capabilities.max_bytes``);
* matching answers to recipients: one result per recipient, in order; and the rule that a
  2xx answer from a provider without idempotency keys is never re-sent.
"""

from __future__ import annotations

import json
import logging
import math
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Protocol

import requests
from requests.adapters import HTTPAdapter

from pipeline.delivery.message import Batch
from pipeline.delivery.providers.base import PreparedBatch, Provider, SendResult, SendStatus
from pipeline.delivery.providers.errors import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from pipeline.delivery.providers.jsonbody import ChunkedBody
from pipeline.delivery.retry import capped_hint

log = logging.getLogger(__name__)

_EPOCH_SECONDS = 1_000_000_000  # anything larger is a timestamp, not "seconds from now"
_EPOCH_MILLISECONDS = 100_000_000_000


def parse_retry_hint(value: str, now: float) -> float | None:
    """Seconds to wait from one hint value: seconds, epoch seconds, epoch ms or an HTTP date."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            number = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not math.isfinite(number):
        return None
    if number >= _EPOCH_MILLISECONDS:
        number = number / 1000.0 - now
    elif number >= _EPOCH_SECONDS:
        number -= now
    return capped_hint(number)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The provider's hint for when to retry (``Retry-After``, else ``X-RateLimit-Reset``).

    Both headers are read in every form providers use (seconds, epoch seconds, epoch
    milliseconds, HTTP date) and capped at :data:`pipeline.delivery.retry.MAX_HINT`.
    """
    now = time.time() if now is None else now
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in ("retry-after", "x-ratelimit-reset"):
        value = lowered.get(name)
        if value:
            hint = parse_retry_hint(value, now)
            if hint is not None:
                return hint
    return None


def excerpt(text: str, limit: int = 300) -> str:
    """A response body short enough for an error line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class HttpRequest:
    """One POST: a path under the provider's base URL, a body, the call's own headers."""

    path: str
    body: bytes | ChunkedBody
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body)


@dataclass(frozen=True)
class HttpAnswer:
    """What came back: status, headers (lower-case names) and the body as text."""

    status: int
    headers: Mapping[str, str]
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> object:
        """The body as JSON, or None when it is not JSON."""
        try:
            parsed: object = json.loads(self.text)
        except ValueError:
            return None
        return parsed


class Transport(Protocol):
    """Carries requests to the provider; tests replace it with :class:`HandlerTransport`."""

    def post(self, request: HttpRequest) -> HttpAnswer:
        """Send ``request``; raise :class:`TransientProviderError` when no answer came."""

    def close(self) -> None:
        """Release connections."""


class RequestsTransport:
    """A pooled ``requests`` session for one provider; safe to share between send threads."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout: float,
        pool_size: int,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(headers or {})
        if auth is not None:
            self.session.auth = auth

    def post(self, request: HttpRequest) -> HttpAnswer:
        url = f"{self.base_url}{request.path}"
        try:
            response = self.session.post(
                url, data=request.body, headers=dict(request.headers), timeout=self.timeout
            )
            text = response.text
        except requests.Timeout as err:
            raise TransientProviderError(
                self.provider, f"no answer within {self.timeout:g}s"
            ) from err
        except requests.ConnectionError as err:
            raise TransientProviderError(self.provider, f"connection failed: {err}") from err
        except requests.RequestException as err:  # a broken or cut-off answer
            raise TransientProviderError(self.provider, f"request failed: {err}") from err
        headers = {name.lower(): value for name, value in response.headers.items()}
        return HttpAnswer(response.status_code, headers, text)

    def close(self) -> None:
        self.session.close()


class HandlerTransport:
    """The test seam: every request goes to ``handler`` instead of the network."""

    def __init__(self, handler: Callable[[HttpRequest], HttpAnswer]) -> None:
        self.handler = handler
        self.requests: list[HttpRequest] = []

    def post(self, request: HttpRequest) -> HttpAnswer:
        self.requests.append(request)
        return self.handler(request)

    def close(self) -> None:
        pass


def check_status(provider: str, answer: HttpAnswer) -> None:
    """Raise for the answers that mean the same for every provider."""
    status = answer.status
    if status == 429 or status >= 500:
        raise TransientProviderError(
            provider,
            f"HTTP {status}, will retry",
            status_code=status,
            response=excerpt(answer.text),
            retry_after=retry_after_seconds(answer.headers),
        )
    if status in (401, 403):
        raise PermanentProviderError(
            provider,
            f"credentials rejected (HTTP {status}): {excerpt(answer.text)}",
            status_code=status,
            response=excerpt(answer.text),
        )


@dataclass(frozen=True)
class HttpCall:
    """One API call of a prepared batch and the recipients it carries."""

    batch: Batch
    request: HttpRequest


class HttpProvider(Provider):
    """The send flow for API providers; subclasses give :meth:`request` and :meth:`parse`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @abstractmethod
    def request(self, batch: Batch) -> HttpRequest:
        """The provider's request for every recipient of ``batch``."""

    @abstractmethod
    def parse(self, batch: Batch, answer: HttpAnswer) -> list[SendResult]:
        """Each recipient's result from an answer the status rule let through.

        Raise a ProviderError (with ``partial``) for an answer that refuses the call.
        """

    def build(self, batch: Batch) -> list[HttpCall]:
        """One call per part of ``batch`` that fits the provider's size limit."""
        calls: list[HttpCall] = []
        limit = self.capabilities.max_bytes
        pending = [batch]
        while pending:
            part = pending.pop(0)
            request = self.request(part)
            if limit is None or request.size <= limit:
                calls.append(HttpCall(part, request))
                continue
            if len(part.recipients) == 1:
                raise PermanentProviderError(
                    self.name,
                    f"one message is {request.size:,} bytes, over the provider's "
                    f"{limit:,}-byte request limit",
                )
            # Split in proportion to the overshoot (at least in two), keeping the order.
            pieces = max(2, math.ceil(request.size / limit))
            size = math.ceil(len(part.recipients) / pieces)
            pending[:0] = [
                replace(part, recipients=part.recipients[i : i + size])
                for i in range(0, len(part.recipients), size)
            ]
        return calls

    def deliver(self, prepared: PreparedBatch) -> list[SendResult]:
        calls: Sequence[HttpCall] = prepared.payload  # type: ignore[assignment]
        decided: list[SendResult] = []
        for call in calls:
            try:
                answer = self.transport.post(call.request)
                check_status(self.name, answer)
                results = self.parse(call.batch, answer)
            except ProviderError as err:
                err.with_partial(decided)
                raise
            decided += self.match(call.batch, results, answer)
        return decided

    def match(
        self, batch: Batch, results: Sequence[SendResult], answer: HttpAnswer
    ) -> list[SendResult]:
        """Exactly one result per recipient of ``batch``, in order.

        A recipient the answer says nothing clear about is ``unknown`` (retried) — except
        after a 2xx from a provider without idempotency keys: the provider took the call,
        and sending again could only make a second copy, so the 2xx counts as accepted.
        """
        by_id = {result.delivery_id: result for result in results}
        trust_2xx = answer.ok and not self.capabilities.idempotency_key
        matched = []
        for recipient in batch.recipients:
            result = by_id.get(recipient.delivery_id) or SendResult(
                recipient.delivery_id,
                SendStatus.UNKNOWN,
                error=f"{self.name}: no result for this recipient",
            )
            if result.status is SendStatus.UNKNOWN and trust_2xx:
                log.warning(
                    "%s answered HTTP %d without a clear result for delivery %d: "
                    "counted as accepted, never re-sent (%s)",
                    self.name,
                    answer.status,
                    recipient.delivery_id,
                    result.error,
                )
                result = replace(result, status=SendStatus.QUEUED)
            matched.append(result)
        return matched

    def close(self) -> None:
        self.transport.close()
