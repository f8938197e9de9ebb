"""The pipeline's errors about issues and providers, rooted in :class:`PulseError`.

The whole tree, every package's errors included, is documented in one place:
:mod:`pulse_core.errors`. This module re-exports the shared ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pulse_core.errors import (
    ConfigError,
    ImportFileError,
    NotFoundError,
    PulseError,
    SendFailed,
    ValidationError,
)

if TYPE_CHECKING:
    from pipeline.delivery.providers.base import SendResult

__all__ = [
    "BadRecipientInBatch",
    "ConfigError",
    "ImportFileError",
    "IssueError",
    "NotFoundError",
    "PermanentProviderError",
    "ProviderError",
    "PulseError",
    "SendFailed",
    "TransientProviderError",
    "ValidationError",
]


class IssueError(PulseError):
    """The issue cannot be built, linted or sent as asked."""


class ProviderError(PulseError):
    """An email provider refused or failed a request.

    ``partial`` holds a result for every recipient the provider had already decided before
    the failure (accepted, or refused on its own account), so the engine records them
    instead of sending them again.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int | None = None,
        response: str | None = None,
        partial: Iterable[SendResult] = (),
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status_code = status_code
        self.response = response
        self.partial: tuple[SendResult, ...] = tuple(partial)

    def with_partial(self, decided: Iterable[SendResult]) -> ProviderError:
        """This error, with ``decided`` (results of earlier calls) ahead of its own partial."""
        self.partial = (*decided, *self.partial)
        return self


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
        partial: Iterable[SendResult] = (),
    ) -> None:
        super().__init__(
            provider, message, status_code=status_code, response=response, partial=partial
        )
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """Retrying the same request will not help."""


class BadRecipientInBatch(PermanentProviderError):
    """The provider refused the whole request because of one or some recipients' addresses.

    Nothing in the request was sent. ``delivery_ids`` names the culprits when the provider
    says which they are (empty when it does not: the engine then splits the batch to find
    them); ``reason`` is the provider's own words.
    """

    def __init__(
        self,
        provider: str,
        reason: str,
        *,
        delivery_ids: Iterable[int] = (),
        status_code: int | None = None,
        response: str | None = None,
        partial: Iterable[SendResult] = (),
    ) -> None:
        super().__init__(
            provider,
            f"request refused for a bad recipient: {reason}",
            status_code=status_code,
            response=response,
            partial=partial,
        )
        self.reason = reason
        self.delivery_ids: tuple[int, ...] = tuple(delivery_ids)
