"""Scoring a message with SpamAssassin, when Debian's ``spamassassin`` package is installed.

The check runs ``spamassassin -L -t``: local tests only (no DNS blocklists, no Razor), in test
mode, so it prints the report without filing anything. The report table is parsed into the
rules that fired, so an editor sees each one with its points.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from pipeline.errors import PulseError

_HEADING = re.compile(r"Content analysis details:\s+\((-?\d+(?:\.\d+)?) points?")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")
_TIMEOUT_SECONDS = 120


class SpamCheckError(PulseError):
    """SpamAssassin is installed but did not give a report we can read."""


@dataclass(frozen=True)
class SpamRule:
    """One rule that fired: its points (negative ones count in the message's favour)."""

    points: float
    name: str
    description: str


@dataclass(frozen=True)
class SpamReport:
    score: float
    rules: tuple[SpamRule, ...]

    @property
    def positive(self) -> tuple[SpamRule, ...]:
        """The rules that count against the message."""
        return tuple(rule for rule in self.rules if rule.points > 0)


def spamassassin_path() -> str | None:
    """The ``spamassassin`` executable, or None when the package is not installed."""
    return shutil.which("spamassassin")


def score_message(raw: bytes, executable: str | None = None) -> SpamReport | None:
    """SpamAssassin's verdict on ``raw`` (a whole RFC 5322 message); None when not installed."""
    program = executable or spamassassin_path()
    if program is None:
        return None
    try:
        finished = subprocess.run(  # noqa: S603 - a fixed program, the message on stdin
            [program, "-L", "-t"],
            input=raw,
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SpamCheckError(f"spamassassin could not run: {err}") from err
    return parse_report(finished.stdout.decode("utf-8", "replace"))


def parse_report(output: str) -> SpamReport:
    """The score and rules from the report ``spamassassin -t`` appends to the message."""
    heading = _HEADING.search(output)
    if heading is None:
        raise SpamCheckError("spamassassin printed no 'Content analysis details' report")
    lines = output[heading.end() :].splitlines()
    # Skip to the dashed line under " pts rule name   description".
    start = next((i for i, line in enumerate(lines) if line.startswith("----")), None)
    rules: list[SpamRule] = []
    if start is not None:
        for line in lines[start + 1 :]:
            if not line.strip():
                break
            match = _RULE.match(line)
            if match:
                points, name, description = match.groups()
                rules.append(SpamRule(float(points), name, description.strip()))
            elif rules:  # a description wrapped onto the next line
                last = rules[-1]
                rules[-1] = SpamRule(last.points, last.name, f"{last.description} {line.strip()}")
    return SpamReport(score=float(heading.group(1)), rules=tuple(rules))
