"""Local stand-ins for the providers' send APIs, on 127.0.0.1 ephemeral ports.

Each speaks its provider's documented contract (auth header, batch limits, per-message
errors, 429 with Retry-After / X-RateLimit-Reset, 5xx), can be told to misbehave (timeouts,
dropped connections, accept-then-drop), validates every request against the provider's
published description (``tests/contracts``) and records what it accepted, so tests can count
messages per recipient. Used by the tests and by ``bench/``.
"""

from tests.fakes.base import Call, FakeProvider, Fault
from tests.fakes.providers import (
    FAKES,
    FakeMailgun,
    FakePostmark,
    FakeResend,
    FakeSendGrid,
    FakeSes,
)

__all__ = [
    "FAKES",
    "Call",
    "FakeMailgun",
    "FakePostmark",
    "FakeProvider",
    "FakeResend",
    "FakeSendGrid",
    "FakeSes",
    "Fault",
]
