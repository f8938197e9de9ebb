"""Which postings are AI Sales Engineer roles, at what level, in which region.

Role rules are plain phrases (not regular expressions, so a setting cannot hang the fetch),
matched on whole words after folding case, hyphens and slashes: ``pre-sales``, ``Pre Sales``
and ``pre/sales`` are one phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_INCLUDE = (
    "sales engineer",
    "solutions engineer",
    "solution engineer",
    "solutions architect",
    "solution architect",
    "solutions consultant",
    "solution consultant",
    "sales architect",
    "pre sales",
    "presales",
    "forward deployed engineer",
    "forward deployed",
    "customer engineer",
    "field engineer",
    "value engineer",
    "technical account executive",
)
DEFAULT_EXCLUDE = ("intern", "internship", "recruiter", "sales development", "apprentice")

LEVELS = (
    ("Manager / Director", re.compile(r"\b(manager|director|head of|vp|vice president)\b")),
    ("Staff / Principal", re.compile(r"\b(staff|principal|distinguished|fellow)\b")),
    ("Senior", re.compile(r"\b(senior|sr|lead|iii)\b")),
    ("Junior", re.compile(r"\b(junior|jr|associate|entry level|graduate)\b")),
)
MID_LEVEL = "Mid-level"


def fold(text: str) -> str:
    """Lower case, punctuation as spaces, single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def parse_phrases(value: str) -> tuple[str, ...]:
    """A comma-separated setting into folded phrases (empty entries dropped)."""
    return tuple(p for p in (fold(part) for part in value.split(",")) if p)


@dataclass(frozen=True)
class RoleRules:
    """A title is kept when it contains an include phrase and no exclude phrase."""

    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE

    def matches(self, title: str) -> bool:
        words = f" {fold(title)} "
        if any(f" {fold(p)} " in words for p in self.exclude):
            return False
        return any(f" {fold(p)} " in words for p in self.include)


def level_of(title: str) -> str:
    """The level a title names; ``Mid-level`` when it names none."""
    folded = fold(title)
    for level, pattern in LEVELS:
        if pattern.search(folded):
            return level
    return MID_LEVEL


# Country names and codes as boards write them → ISO 3166-1 alpha-2.
COUNTRIES = {
    "us": "US",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "u s": "US",
    "uk": "GB",
    "united kingdom": "GB",
    "gb": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "canada": "CA",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "ireland": "IE",
    "netherlands": "NL",
    "spain": "ES",
    "italy": "IT",
    "sweden": "SE",
    "switzerland": "CH",
    "poland": "PL",
    "portugal": "PT",
    "denmark": "DK",
    "norway": "NO",
    "finland": "FI",
    "belgium": "BE",
    "austria": "AT",
    "australia": "AU",
    "new zealand": "NZ",
    "india": "IN",
    "singapore": "SG",
    "japan": "JP",
    "israel": "IL",
    "brazil": "BR",
    "mexico": "MX",
}
US_STATES = frozenset(
    "al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj "  # noqa: SIM905
    "nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc".split()
)
US_STATE_NAMES = frozenset(
    [
        "california",
        "new york",
        "texas",
        "washington",
        "colorado",
        "massachusetts",
        "illinois",
        "georgia",
        "florida",
        "virginia",
        "oregon",
        "north carolina",
        "new jersey",
        "pennsylvania",
        "arizona",
        "utah",
        "minnesota",
        "michigan",
        "ohio",
        "tennessee",
        "maryland",
    ]
)
CITIES = {
    "san francisco": "US",
    "new york city": "US",
    "nyc": "US",
    "seattle": "US",
    "austin": "US",
    "boston": "US",
    "chicago": "US",
    "los angeles": "US",
    "denver": "US",
    "atlanta": "US",
    "palo alto": "US",
    "mountain view": "US",
    "sf bay area": "US",
    "bay area": "US",
    "london": "GB",
    "manchester": "GB",
    "edinburgh": "GB",
    "dublin": "IE",
    "berlin": "DE",
    "munich": "DE",
    "paris": "FR",
    "amsterdam": "NL",
    "toronto": "CA",
    "vancouver": "CA",
    "montreal": "CA",
    "sydney": "AU",
    "melbourne": "AU",
    "tel aviv": "IL",
    "bangalore": "IN",
    "bengaluru": "IN",
    "tokyo": "JP",
    "stockholm": "SE",
    "zurich": "CH",
    "madrid": "ES",
}
CA_PROVINCES = frozenset(["on", "bc", "qc", "ab", "mb", "ns", "nb", "nl", "pe", "sk"])


def country_code(value: str | None) -> str | None:
    """A country as a board states it (``USA``, ``United States``, ``US``) as ISO alpha-2."""
    if not value:
        return None
    folded = fold(value)
    if folded in COUNTRIES:
        return COUNTRIES[folded]
    upper = value.strip().upper()
    return upper if len(upper) == 2 and upper.isalpha() and upper.isascii() else None


def region_of(location: str, country_hint: str | None = None) -> str | None:
    """The one country a location names (remote counts as its country), else ``None``.

    ``Remote (US)`` → US, ``San Francisco, CA`` → US, ``London, UK`` → GB,
    ``Remote`` → None, ``Remote (US/Canada)`` → None (two countries: no guess).
    """
    found: set[str] = set()
    hinted = country_code(country_hint)
    if hinted:
        found.add(hinted)
    folded = fold(location)
    words = folded.split()
    padded = f" {folded} "
    for name, code in COUNTRIES.items():
        if len(name) > 2 and f" {name} " in padded:
            found.add(code)
    for name, code in CITIES.items():
        if f" {name} " in padded:
            found.add(code)
    if any(f" {name} " in padded for name in US_STATE_NAMES):
        found.add("US")
    # Two-letter tokens: country codes, and state/province codes after a comma.
    for part in (p.strip() for p in re.split(r"[,;()/|\-]", location)):
        token = part.lower()
        if token in ("us", "usa", "uk", "gb"):
            found.add(COUNTRIES[token])
        elif token in US_STATES and token != "ca":  # noqa: S105 - "CA" is told apart below
            found.add("US")
        elif token in CA_PROVINCES:
            found.add("CA")
    if re.search(r",\s*CA\b", location) and "canada" not in words:
        found.add("US")  # "Palo Alto, CA": California (Canada is spelled out by boards)
    if len(found) == 1:
        return found.pop()
    return None


def is_remote(location: str, flag: bool | None = None) -> bool:
    """Remote when the board says so or the location reads ``Remote …``."""
    return bool(flag) or "remote" in fold(location).split()
