"""The pipeline's errors about issues and providers, rooted in :class:`PulseError`.

The whole tree, every package's errors included, is documented in one place:
:mod:`pulse_core.errors`. This module re-exports the shared ones.
The provider errors are defined in :mod:`pipeline.delivery.providers.errors`, beside the
provider interface whose results they carry.
"""

from __future__ import annotations

from pulse_core.errors import (
    AlreadyExists,
    ConfigError,
    ImportFileError,
    NotFoundError,
    PulseError,
    SendFailed,
    ValidationError,
)

__all__ = [
    "AlreadyExists",
    "ConfigError",
    "ImportFileError",
    "IssueError",
    "NotFoundError",
    "PulseError",
    "SendFailed",
    "ValidationError",
]


class IssueError(PulseError):
    """The issue cannot be built, linted or sent as asked."""
