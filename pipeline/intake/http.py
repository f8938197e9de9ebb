"""A polite HTTP GET for public boards and feeds: timeouts, retries with backoff, a real
User-Agent, and conditional requests (ETag / Last-Modified) where the server supports them.

Errors::

    PulseError
    └── FetchError           the source could not be read; ``status`` when it answered
        └── SourceGone       404 or 410: the board (or posting page) does not exist
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

from pipeline.errors import PulseError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY_BYTES = 50 * 1024 * 1024


class FetchError(PulseError):
    """A source could not be read; ``status`` is the HTTP status when the server answered."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url
        self.status = status


class SourceGone(FetchError):
    """404 or 410: what was asked for does not exist (any more)."""


@dataclass(frozen=True)
class Answer:
    """A successful answer; ``not_modified`` when the server said 304."""

    status: int
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class FetchPolicy:
    """How hard to try: per-request timeout, attempts, and backoff between them."""

    timeout: float = 10.0
    attempts: int = 3
    backoff: float = 1.0
    backoff_max: float = 30.0
    user_agent: str = "AISE-Pulse-Brief/1.0 (+https://github.com/aise-pulse)"


class PoliteClient:
    """GETs with retries on timeouts, connection errors, 429 and 5xx (Retry-After honoured)."""

    def __init__(
        self,
        policy: FetchPolicy,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = policy.user_agent
        self.sleep = sleep
        self.requests = 0

    def close(self) -> None:
        self.session.close()

    def _once(self, url: str, params: Mapping[str, str] | None, headers: dict[str, str]) -> Answer:
        response = self.session.get(
            url, params=params, headers=headers, timeout=self.policy.timeout, stream=True
        )
        with response:
            status = response.status_code
            if status in (404, 410):
                raise SourceGone(url, f"HTTP {status}", status)
            if status in RETRY_STATUSES:
                raise _Retry(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
            if status == 304:
                return Answer(304, b"")
            if not 200 <= status < 300:
                raise FetchError(url, f"HTTP {status}", status)
            return Answer(
                status,
                _read_capped(response, url),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                response.headers.get("Content-Type", ""),
            )

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "application/json",
    ) -> Answer:
        """The answer to ``GET url``; raise :class:`FetchError` once retries are spent."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        last_error = "no attempt made"
        for attempt in range(1, self.policy.attempts + 1):
            wait = self.policy.backoff * 2 ** (attempt - 1)
            try:
                self.requests += 1
                answer = self._once(url, params, headers)
            except requests.Timeout:
                last_error = f"no answer within {self.policy.timeout:g}s"
            except requests.RequestException as err:
                last_error = f"connection failed: {type(err).__name__}"
            except _Retry as retry:
                last_error = str(retry)
                wait = max(wait, retry.after)
            else:
                if answer.not_modified:
                    return Answer(304, b"", etag, last_modified)
                return answer
            if attempt < self.policy.attempts:
                self.sleep(min(wait, self.policy.backoff_max))
        attempts = self.policy.attempts
        plural = "s" if attempts != 1 else ""
        raise FetchError(url, f"gave up after {attempts} attempt{plural}: {last_error}")


class _Retry(PulseError):
    """An answer worth asking again for (429, 5xx), after ``after`` seconds at least.

    Only ever raised and caught inside :meth:`PoliteClient.get`; callers see a FetchError.
    """

    def __init__(self, message: str, after: float) -> None:
        super().__init__(message)
        self.after = after


def _read_capped(response: requests.Response, url: str) -> bytes:
    chunks = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise FetchError(url, f"answer larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (the delta form); 0 when absent or a date."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
