"""A transactional email as subscribers hand it to the wiring, and the callable that sends it.

:mod:`subscribers` never imports :mod:`pipeline`; the wiring gives it a :data:`SendEmail`
that delivers one message through the configured provider, and raises
:class:`~pulse_core.errors.SendFailed` when it cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingEmail:
    """One message to one person: a confirmation or a welcome, never an issue."""

    to: str
    subject: str
    html: str
    text: str
    to_name: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # What kind of message this is ("confirm", "welcome"), for logs and Message-IDs.
    kind: str = "transactional"


SendEmail = Callable[[OutgoingEmail], None]
"""Sends one :class:`OutgoingEmail`; returns once the provider accepted it.

When it cannot send, it raises :class:`pulse_core.errors.SendFailed` (``permanent`` when
retrying will not help) and nothing else: that is the one error the subscribers package
catches around a send.
"""
