"""Fast JSON for providers that take every message fully rendered (Postmark, Resend).

JSON string escaping works character by character, so the escaped form of a merged body is
the escaped literal parts joined with the escaped merge values. The literal parts (nearly
all of a 30 KB issue) are escaped once per issue; each message then costs a ``str.join``
instead of a full ``json.dumps`` of its body.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii  # the C accelerator when available

from pipeline.issues.merge import MergeTemplate, html_values


def json_string(value: str) -> str:
    """``value`` as a JSON string literal, quotes included (ASCII-only output)."""
    return encode_basestring_ascii(value)


def json_text(value: str) -> str:
    """``value`` as the inside of a JSON string literal (no surrounding quotes)."""
    return encode_basestring_ascii(value)[1:-1]


def json_headers(headers: Mapping[str, str], *, name: str = "Name", value: str = "Value") -> str:
    """Headers as the inside of a JSON array of ``{"Name": …, "Value": …}`` objects."""
    return ",".join(
        f'{{"{name}":{json_string(k)},"{value}":{json_string(v)}}}' for k, v in headers.items()
    )


def json_object_items(items: Mapping[str, str]) -> str:
    """A string-to-string mapping as the inside of a JSON object."""
    return ",".join(f"{json_string(k)}:{json_string(v)}" for k, v in items.items())


class EscapedBodies:
    """Escaped copies of an issue's templates, made once and reused for every batch."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[MergeTemplate, MergeTemplate]] = {}
        self._lock = threading.Lock()

    def escaped(self, template: MergeTemplate) -> MergeTemplate:
        key = id(template)
        found = self._cache.get(key)
        if found is not None and found[0] is template:
            return found[1]
        parts = tuple(
            json_text(part) if index % 2 == 0 else part for index, part in enumerate(template.parts)
        )
        escaped = MergeTemplate(parts=parts, slots=template.slots)
        with self._lock:
            # Keep only the current issue's templates (and the originals, so ids stay unique).
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = (template, escaped)
        return escaped

    def html(self, template: MergeTemplate, values: Mapping[str, str]) -> str:
        """The JSON-escaped HTML body for one recipient."""
        merged = html_values(values)
        return self.escaped(template).merge({k: json_text(v) for k, v in merged.items()})

    def text(self, template: MergeTemplate, values: Mapping[str, str]) -> str:
        """The JSON-escaped text body for one recipient."""
        return self.escaped(template).merge({k: json_text(v) for k, v in values.items()})
