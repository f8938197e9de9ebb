"""The project's exception tree.

It lives in :mod:`pulse_core`, below both :mod:`subscribers` and :mod:`pipeline`;
:mod:`pipeline.errors` re-exports it and adds the pipeline's own subclasses.

    PulseError
    ├── ConfigError          a setting is missing or malformed (exit code 2)
    ├── ValidationError      user input is wrong; ``field`` names the culprit
    │   └── ImportFileError  a CSV import failed; ``line`` names the row
    └── NotFoundError        a named record does not exist
"""

from __future__ import annotations


class PulseError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(PulseError):
    """A setting is missing or malformed."""


class ValidationError(PulseError):
    """User input failed validation. ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ImportFileError(ValidationError):
    """A row of an imported file is invalid; nothing from the file was applied."""

    def __init__(self, line: int, field: str, message: str) -> None:
        super().__init__(field, message)
        self.line = line
        self.args = (f"line {line}: {field}: {message}",)


class NotFoundError(PulseError):
    """A record named by the user does not exist."""
