"""Per-recipient merge into HTML and text rendered once per issue.

The issue is compiled with placeholders such as ``%%pulse:unsubscribe_url%%``; the compiled
output is split once into literal parts and field slots, so each recipient costs one list
copy, a few assignments and a ``str.join``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MERGE_FIELDS = ("unsubscribe_url", "preferences_url", "first_name")
_PLACEHOLDER = re.compile(r"%%pulse:([a-z_]+)%%")


def placeholder(name: str) -> str:
    """The marker a template emits where the merge field ``name`` goes."""
    if name not in MERGE_FIELDS:
        raise KeyError(name)
    return f"%%pulse:{name}%%"


@dataclass(frozen=True)
class MergeTemplate:
    """Rendered output split into literal parts and merge-field slots."""

    parts: tuple[str, ...]
    slots: tuple[tuple[int, str], ...] = field(default=())

    @classmethod
    def parse(cls, rendered: str) -> MergeTemplate:
        pieces = _PLACEHOLDER.split(rendered)
        slots = tuple((index, pieces[index]) for index in range(1, len(pieces), 2))
        for _index, name in slots:
            if name not in MERGE_FIELDS:
                raise ValueError(f"unknown merge field {name!r}")
        return cls(parts=tuple(pieces), slots=slots)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for _index, name in self.slots)

    def merge(self, values: Mapping[str, str]) -> str:
        """Fill every slot from ``values`` (already escaped for the output's format)."""
        out = list(self.parts)
        for index, name in self.slots:
            out[index] = values[name]
        return "".join(out)

    def with_markers(self, marker: Mapping[str, str]) -> str:
        """Re-join with a provider's own merge syntax, e.g. ``{{unsubscribe_url}}``."""
        return self.merge(marker)


def html_values(values: Mapping[str, str]) -> dict[str, str]:
    """Escape merge values for the HTML part (names may hold markup characters)."""
    return {name: html.escape(value, quote=True) for name, value in values.items()}
