"""Logging setup: readable lines on a terminal, JSON lines with ``PULSE_LOG_FORMAT=json``.

Every command configures logging through :func:`configure_logging` (``pulse()`` in the CLI does
it once the settings are read), and ``pulse serve`` hands uvicorn no logging config of its own,
so the servers' lines, the access log included, pass through the same handler and the same
redaction as the project's.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

# Signed tokens and credentials must never reach the logs, whatever a message quotes.
_REDACT = [
    # Capability URLs: the path segment after these prefixes is the credential itself.
    (
        re.compile(
            r"(/(?:u|confirm|preferences|recover|c|admin/set-password)/)[A-Za-z0-9_\-\.~%]{8,}"
        ),
        r"\1[token]",
    ),
    (re.compile(r"(?i)(authorization:\s*(?:bearer|basic)\s+)\S+"), r"\1[redacted]"),
    (re.compile(r"\bpulse_[A-Za-z0-9_\-]{20,}"), "pulse_[redacted]"),
    (re.compile(r"(?i)(token|password|api[_-]?key|secret)([=:]\s*)\S+"), r"\1\2[redacted]"),
]

# Credentials in header form (an Authorization value quoted in a message or an error).
_REDACT.append((re.compile(r"(?i)(authorization:\s*)(?:bearer|basic)?\s*\S+"), r"\1[redacted]"))

# The (pattern, replacement) pairs every formatter applies, in order; a plain list to extend.
REDACTION_PATTERNS: list[tuple[re.Pattern[str], str]] = _REDACT

# ``extra=`` fields whose name says they hold a secret are dropped whatever their value.
_SECRET_FIELD = re.compile(r"(?i)token|password|secret|api[_-]?key|authorization|cookie")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "", None, None))
) | {"message", "asctime", "taskName"}


def redact(message: str) -> str:
    """``message`` with every signed token and credential replaced by a marker."""
    for pattern, replacement in _REDACT:
        message = pattern.sub(replacement, message)
    return message


def _clean(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return redact(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    """The record's ``extra=`` fields, redacted (secret-named fields dropped)."""
    fields: dict[str, object] = {}
    for name, value in vars(record).items():
        if name in _STANDARD_ATTRIBUTES or name.startswith("_"):
            continue
        fields[name] = "[redacted]" if _SECRET_FIELD.search(name) else _clean(value)
    return fields


def _access_fields(record: logging.LogRecord) -> dict[str, object]:
    """uvicorn's access line as fields: client, method, path, status."""
    args = record.args
    if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, _version, status = args
    return {
        "client": str(client),
        "method": str(method),
        "path": redact(str(path)),
        "status": status,
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; ``extra=`` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update(_access_fields(record))
        for name, value in extra_fields(record).items():
            entry.setdefault(name, value)
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value…``, redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extra_fields(record)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return redact(line)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record arrives (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Route the project's and the servers' logs through one handler on stderr."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler._pulse = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_pulse", False):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server = logging.getLogger(name)
        server.handlers.clear()  # uvicorn's own config, if one ran, bypasses redaction
        server.propagate = True
    for chatty in ("apscheduler", "alembic"):  # their INFO lines say nothing an operator needs
        logging.getLogger(chatty).setLevel(logging.WARNING)
