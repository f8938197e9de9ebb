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

MERGE_FIELDS = (
    "unsubscribe_url",
    "preferences_url",
    "first_name",
    "open_url",
    "referral_url",
)
_PLACEHOLDER = re.compile(r"%%pulse:([a-z0-9_]+)%%")
# Tracked links are numbered merge fields (``link_0``, ``link_1``…, see pipeline/analytics):
# per recipient each holds a signed click URL, or the link itself where clicks go untracked.
_LINK_FIELD = re.compile(r"link_\d{1,4}")


def is_merge_field(name: str) -> bool:
    return name in MERGE_FIELDS or _LINK_FIELD.fullmatch(name) is not None


def link_field(position: int) -> str:
    """The merge field of the issue's tracked link at ``position``."""
    return f"link_{position}"


def placeholder(name: str) -> str:
    """The marker a template emits where the merge field ``name`` goes."""
    if not is_merge_field(name):
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
            if not is_merge_field(name):
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

    def fill(self, values: Mapping[str, str]) -> MergeTemplate:
        """The template with the slots named in ``values`` made literal (same for everyone)."""
        pieces: list[str] = [self.parts[0]]
        slots: list[tuple[int, str]] = []
        for index in range(1, len(self.parts), 2):
            name = self.parts[index]
            if name in values:
                pieces[-1] += values[name] + self.parts[index + 1]
            else:
                slots.append((len(pieces), name))
                pieces += [name, self.parts[index + 1]]
        return MergeTemplate(parts=tuple(pieces), slots=tuple(slots))

    def with_markers(self, marker: Mapping[str, str]) -> str:
        """Re-join with a provider's own merge syntax, e.g. ``{{unsubscribe_url}}``."""
        return self.merge(marker)


def html_values(values: Mapping[str, str]) -> dict[str, str]:
    """Escape merge values for the HTML part (names may hold markup characters)."""
    return {name: html.escape(value, quote=True) for name, value in values.items()}
