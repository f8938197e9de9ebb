"""Fast JSON for providers that take every message fully rendered (Postmark, Resend).

JSON string escaping works character by character, so the escaped form of a merged body is
the escaped literal parts joined with the escaped merge values. The literal parts (nearly
all of a 30 KB issue) are escaped once per issue; each message then costs a ``str.join``
instead of a full ``json.dumps`` of its body.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
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
    """Escaped, encoded copies of an issue's templates, made once and reused for every batch.

    A message's body comes back as a list of byte chunks (the shared literal parts plus the
    recipient's escaped values), so a whole request is assembled with a single
    ``b"".join`` and no per-message copies of the 30 KB body.
    """

    def __init__(self) -> None:
        self._cache: dict[int, tuple[MergeTemplate, tuple[bytes, ...]]] = {}
        self._lock = threading.Lock()

    def escaped(self, template: MergeTemplate) -> tuple[bytes, ...]:
        key = id(template)
        found = self._cache.get(key)
        if found is not None and found[0] is template:
            return found[1]
        parts = tuple(
            json_text(part).encode() if index % 2 == 0 else b""
            for index, part in enumerate(template.parts)
        )
        with self._lock:
            # Keep only the current issue's templates (and the originals, so ids stay unique).
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = (template, parts)
        return parts

    def chunks(self, template: MergeTemplate, values: Mapping[str, str]) -> list[bytes]:
        """The JSON-escaped body for one recipient, as chunks (``values`` already escaped)."""
        out = list(self.escaped(template))
        for index, name in template.slots:
            out[index] = json_text(values[name]).encode()
        return out

    def html(self, template: MergeTemplate, values: Mapping[str, str]) -> list[bytes]:
        """The recipient's HTML body (merge values HTML-escaped first)."""
        return self.chunks(template, html_values(values))

    def text(self, template: MergeTemplate, values: Mapping[str, str]) -> list[bytes]:
        """The recipient's text body."""
        return self.chunks(template, values)


class ChunkedBody:
    """A request body sent straight from its chunks: known length, never joined whole.

    ``requests`` sends an iterable with a length as a ``Content-Length`` body, writing
    each piece as it comes; a batch of 500 rendered messages (15 MB) then costs a few
    hundred kilobytes of memory in flight instead of a second copy of itself. Iterating
    again starts over, so a retry re-sends the same bytes.
    """

    WRITE_SIZE = 256 * 1024

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.length = sum(len(chunk) for chunk in chunks)

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        pending: list[bytes] = []
        size = 0
        for chunk in self.chunks:
            pending.append(chunk)
            size += len(chunk)
            if size >= self.WRITE_SIZE:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)

    def __bytes__(self) -> bytes:
        return b"".join(self.chunks)
