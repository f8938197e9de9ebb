"""Pipeline errors, rooted in the project's :class:`PulseError`.

PulseError                      (pulse_core.errors)
├── ConfigError
├── ValidationError
│   └── ImportFileError
├── NotFoundError
├── IssueError                  the issue cannot be built, linted or sent as asked
└── ProviderError               an email provider refused or failed; carries the response
    │                           and ``partial``: the recipients it had already decided
    ├── TransientProviderError  retry later (429, 5xx, timeouts); ``retry_after`` seconds
    └── PermanentProviderError  retrying will not help (bad credentials, account, sender)
        └── BadRecipientInBatch the whole request was refused for one or some recipients;
                                ``delivery_ids`` names them when the provider does

The provider errors are defined in :mod:`pipeline.delivery.providers.errors`, beside the
provider interface whose results they carry (this module is a leaf every stage imports).
"""

from __future__ import annotations

from pulse_core.errors import (
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
    "PulseError",
    "ValidationError",
]


class IssueError(PulseError):
    """The issue cannot be built, linted or sent as asked."""
