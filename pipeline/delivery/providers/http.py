"""HTTP plumbing shared by the API adapters: one pooled session, one error mapping.

Whole-call failures become :class:`TransientProviderError` (429, 5xx, timeouts, dropped
connections; with the provider's ``Retry-After`` / ``X-RateLimit-Reset`` hint) or
:class:`PermanentProviderError` (rejected credentials). Other 4xx answers are returned to the
adapter, which knows what its provider means by them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from pipeline.errors import PermanentProviderError, TransientProviderError

# Epoch seconds are far larger than any sensible "seconds from now" delay.
_EPOCH_THRESHOLD = 1_000_000_000


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The provider's hint for when to retry: Retry-After (seconds or date), X-RateLimit-Reset."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            number = float(reset.strip())
        except ValueError:
            return None
        return max(0.0, number - now) if number > _EPOCH_THRESHOLD else max(0.0, number)
    return None


def excerpt(text: str, limit: int = 300) -> str:
    """A response body short enough for an error line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HttpTransport:
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

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """POST ``path``; raises for whole-call failures, returns every other answer."""
        url = f"{self.base_url}{path}"
        try:
            response = self.session.post(url, timeout=self.timeout, **kwargs)
        except requests.Timeout as err:
            raise TransientProviderError(
                self.provider, f"no answer within {self.timeout:g}s"
            ) from err
        except requests.ConnectionError as err:
            raise TransientProviderError(self.provider, f"connection failed: {err}") from err
        except requests.RequestException as err:  # a broken or cut-off answer
            raise TransientProviderError(self.provider, f"request failed: {err}") from err
        check_response(self.provider, response)
        return response

    def close(self) -> None:
        self.session.close()


def check_response(provider: str, response: requests.Response) -> None:
    """Raise for the answers that mean the same for every provider."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientProviderError(
            provider,
            f"HTTP {status}, will retry",
            status_code=status,
            response=excerpt(response.text),
            retry_after=retry_after_seconds(response.headers),
        )
    if status in (401, 403):
        raise PermanentProviderError(
            provider,
            f"credentials rejected (HTTP {status}): {excerpt(response.text)}",
            status_code=status,
            response=excerpt(response.text),
        )
