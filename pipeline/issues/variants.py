"""Variants of the week's issue: which profile combinations get an issue of their own.

An issue is tailored by three profile fields (subscribers.profile): the salary table marks
the reader's *level*, tables and jobs of the reader's *region* come first, and snippets an
editor aimed at a *role* appear for that role. Rendering per reader would break the promise
that MJML compiles once per issue, so the issue is rendered once per *variant* instead:

1. A field's value counts only if it changes this week's content: a level only if a salary
   table has its row, a region only if a table or a job is in it, a role only if a ready
   snippet targets it. A reader's *effective key* keeps just those values.
2. Readers are counted per effective key; the ``limit`` (``PULSE_MAX_VARIANTS``, 24) largest
   keys become variants, ties broken by the key's text. The empty key is the default issue.
3. Each reader gets the most specific variant whose every field matches their profile
   (a senior reader in the US whose exact key missed the cut gets ``level=senior`` if that
   is a variant), else the default. Specificity ties go to the variant with more readers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.errors import ValidationError
from subscribers.profile import LEVELS, REGIONS, ROLES, clean_choice

VARIANT_FIELDS = ("level", "region", "role")
DEFAULT_NAME = "default"
MAX_KEY_TEXT = 80
_CHOICES: Mapping[str, Mapping[str, str]] = {"level": LEVELS, "region": REGIONS, "role": ROLES}

# (role, level, region) as stored on a subscriber; any may be None.
ProfileTriple = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class VariantKey:
    """The profile values a variant is for; all None is the default issue."""

    level: str | None = None
    region: str | None = None
    role: str | None = None

    @property
    def is_default(self) -> bool:
        return self.level is None and self.region is None and self.role is None

    @property
    def specificity(self) -> int:
        return sum(value is not None for value in (self.level, self.region, self.role))

    @property
    def text(self) -> str:
        """``level=senior,region=US``; ``default`` for the default issue."""
        if self.is_default:
            return DEFAULT_NAME
        pairs = ((name, getattr(self, name)) for name in VARIANT_FIELDS)
        return ",".join(f"{name}={value}" for name, value in pairs if value is not None)

    @property
    def stored(self) -> str | None:
        """The value of ``deliveries.variant``: None for the default."""
        return None if self.is_default else self.text

    def matches(self, role: str | None, level: str | None, region: str | None) -> bool:
        """Whether every field this variant sets is the reader's."""
        return (
            (self.level is None or self.level == level)
            and (self.region is None or self.region == region)
            and (self.role is None or self.role == role)
        )


DEFAULT_KEY = VariantKey()


def parse_variant(raw: str, field: str = "variant") -> VariantKey:
    """``level=senior,region=US`` (or ``default``) → a key; errors name the bad field.

    Values are checked against the profile's fixed lists, so a key can never carry text
    into a page or a query.
    """
    text = raw.strip()
    if len(text) > MAX_KEY_TEXT:
        raise ValidationError(field, f"must be at most {MAX_KEY_TEXT} characters")
    if not text or text.lower() == DEFAULT_NAME:
        return DEFAULT_KEY
    values: dict[str, str] = {}
    for entry in text.split(","):
        name, sep, value = (part.strip() for part in entry.partition("="))
        name = name.lower()
        if name not in _CHOICES:
            raise ValidationError(field, f"unknown field {name!r}: use {', '.join(VARIANT_FIELDS)}")
        if not sep or not value:
            raise ValidationError(name, f"give a value, e.g. {name}={next(iter(_CHOICES[name]))}")
        if name in values:
            raise ValidationError(name, "may appear once")
        cleaned = clean_choice(value, _CHOICES[name], name)
        assert cleaned is not None  # a non-blank value is returned or refused
        values[name] = cleaned
    return VariantKey(**values)


@dataclass(frozen=True)
class Relevance:
    """The profile values that change this week's content (rule 1 above)."""

    levels: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()

    def effective(self, role: str | None, level: str | None, region: str | None) -> VariantKey:
        """A reader's profile reduced to the values that matter this week."""
        return VariantKey(
            level=level if level in self.levels else None,
            region=region if region in self.regions else None,
            role=role if role in self.roles else None,
        )


@dataclass(frozen=True)
class Variant:
    """A chosen variant, its rank (the order readers are matched in) and its readers."""

    key: VariantKey
    rank: int
    readers: int


@dataclass(frozen=True)
class VariantPlan:
    """The variants an issue is rendered in, and how many readers get the default."""

    variants: tuple[Variant, ...] = ()
    default_readers: int = 0

    def variant_for(self, role: str | None, level: str | None, region: str | None) -> VariantKey:
        """The variant a reader with this profile gets (rule 3): first match in rank order."""
        return _first_match(self.variants, role, level, region)


def _first_match(
    variants: Iterable[Variant], role: str | None, level: str | None, region: str | None
) -> VariantKey:
    for variant in sorted(variants, key=lambda v: v.rank):
        if variant.key.matches(role, level, region):
            return variant.key
    return DEFAULT_KEY


def plan_variants(
    readers: Mapping[ProfileTriple, int], relevance: Relevance, limit: int
) -> VariantPlan:
    """Choose up to ``limit`` variants from readers counted per (role, level, region)."""
    per_key: Counter[VariantKey] = Counter()
    for (role, level, region), count in readers.items():
        per_key[relevance.effective(role, level, region)] += count
    per_key.pop(DEFAULT_KEY, None)
    chosen = sorted(per_key, key=lambda key: (-per_key[key], key.text))[: max(limit, 0)]
    ordered = sorted(chosen, key=lambda key: (-key.specificity, -per_key[key], key.text))
    ranked = [Variant(key, rank, 0) for rank, key in enumerate(ordered)]
    assigned: Counter[VariantKey] = Counter()
    for (role, level, region), count in readers.items():
        assigned[_first_match(ranked, role, level, region)] += count
    return VariantPlan(
        variants=tuple(Variant(v.key, v.rank, assigned[v.key]) for v in ranked),
        default_readers=assigned[DEFAULT_KEY],
    )
