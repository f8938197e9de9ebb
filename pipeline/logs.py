"""Logging setup: readable lines on a terminal, JSON lines with ``PULSE_LOG_FORMAT=json``."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

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


def redact(message: str) -> str:
    for pattern, replacement in _REDACT:
        message = pattern.sub(replacement, message)
    return message


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Route the project's and the servers' logs through one handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_pulse", False):
            root.removeHandler(existing)
    handler._pulse = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
