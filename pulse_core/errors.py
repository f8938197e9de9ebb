"""The project's exception tree: every error raised on purpose, in one place.

The root and the errors both :mod:`subscribers` and :mod:`pipeline` raise live here, in
:mod:`pulse_core`, below both; each package defines its own subclasses beside the code that
raises them (the module is named on the right; each class's docstring says what it means).
A test keeps this tree true: every exception class defined in ``pulse_core``,
``subscribers`` and ``pipeline`` appears here, under its real parent. The CLI turns any
:class:`PulseError` into one line and a non-zero exit; the web apps into a page or a JSON
answer with the right status, never a traceback.

    PulseError                          pulse_core.errors
    ├── ConfigError                     pulse_core.errors
    ├── ValidationError                 pulse_core.errors
    │   ├── ImportFileError             pulse_core.errors
    │   ├── AlreadyExists               pulse_core.errors
    │   ├── SuppressedAddress           subscribers.service
    │   ├── HeaderInjection             pipeline.delivery.header_check
    │   └── MalformedEvent              pipeline.events.errors
    ├── NotFoundError                   pulse_core.errors
    ├── SendFailed                      pulse_core.errors
    ├── InvalidToken                    subscribers.tokens
    │   └── ExpiredToken                subscribers.tokens
    ├── FormRejected                    subscribers.web.forms
    ├── EmailRenderError                subscribers.emails
    ├── ImportRejected                  subscribers.importer
    ├── DeskError                       pipeline.admin.web
    │   └── LoginRequired               pipeline.admin.web
    ├── LoginRefused                    pipeline.admin.accounts
    ├── BadClickToken                   pipeline.analytics.tokens
    ├── SpamCheckError                  pipeline.deliverability.spam
    ├── WebhookRejected                 pipeline.events.errors
    ├── FetchError                      pipeline.intake.http
    │   └── SourceGone                  pipeline.intake.http
    ├── _Retry                          pipeline.intake.http
    ├── IssueError                      pipeline.errors
    │   ├── SendInProgress              pipeline.delivery.send_lock
    │   └── SalaryDataError             pipeline.issues.salary
    └── ProviderError                   pipeline.delivery.providers.errors
        ├── TransientProviderError      pipeline.delivery.providers.errors
        └── PermanentProviderError      pipeline.delivery.providers.errors
            └── BadRecipientInBatch     pipeline.delivery.providers.errors

:class:`SendFailed` is what a :data:`subscribers.outgoing.SendEmail` raises; the pipeline's
sender wraps the provider's :class:`ProviderError` in it (``raise SendFailed(...) from err``),
so the subscribers package catches one error it knows instead of bare ``Exception``.
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


class AlreadyExists(ValidationError):
    """The record given is already there (a job URL listed twice); the API answers 409."""


class NotFoundError(PulseError):
    """A record named by the user does not exist."""


class SendFailed(PulseError):
    """A transactional email could not be sent; ``permanent`` when retrying will not help.

    The cause (the provider's error) is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
