"""Why a provider event was refused.

PulseError
├── WebhookRejected       the request could not be authenticated (401/403); nothing changed
└── ValidationError
    └── MalformedEvent    the request was authentic but its body cannot be read (400)
"""

from __future__ import annotations

from pipeline.errors import PulseError, ValidationError


class WebhookRejected(PulseError):
    """A webhook failed verification. ``status_code`` is 401 (no credentials) or 403."""

    def __init__(self, provider: str, reason: str, *, status_code: int = 403) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.status_code = status_code


class MalformedEvent(ValidationError):
    """An event payload is not in the provider's documented shape; ``field`` names where."""
