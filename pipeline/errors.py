"""Pipeline errors, rooted in the project's :class:`PulseError`.

PulseError                      (subscribers.errors)
├── ConfigError
├── ValidationError
│   └── ImportFileError
├── NotFoundError
├── IssueError                  the issue cannot be built, linted or sent as asked
└── ProviderError               an email provider refused or failed; carries the response
    ├── TransientProviderError  retry later (429, 5xx, timeouts); ``retry_after`` seconds
    └── PermanentProviderError  retrying will not help (bad credentials, bad request)
"""

from __future__ import annotations

from subscribers.errors import (
    ConfigError,
    ImportFileError,
    NotFoundError,
    PulseError,
    ValidationError,
)

__all__ = [
    "ConfigError",
    "ImportFileError",
    "IssueError",
    "NotFoundError",
    "PermanentProviderError",
    "ProviderError",
    "PulseError",
    "TransientProviderError",
    "ValidationError",
]


class IssueError(PulseError):
    """The issue cannot be built, linted or sent as asked."""


class ProviderError(PulseError):
    """An email provider refused or failed a request."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int | None = None,
        response: str | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status_code = status_code
        self.response = response


class TransientProviderError(ProviderError):
    """Worth retrying later; ``retry_after`` is the provider's hint in seconds, if any."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int | None = None,
        response: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, status_code=status_code, response=response)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """Retrying the same request will not help."""
