"""Pay ranges from a posting's text: ``$180,000 – $240,000``, ``£90k–£110k``, ``$55-$70/hr``.

The parser answers only when the text is unambiguous: both ends, a currency it can name,
and a pay period it can read or that the size of the figures makes certain. Otherwise it
answers ``None`` — a missing range is better than a guessed one. It never returns a range
with ``low > high``, and never a currency the text does not state (a bare ``$`` counts as
USD only when the caller knows the posting is in the United States).

A range is OTE (on-target earnings) when the words near it say so; otherwise it is base pay.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

Interval = Literal["year", "month", "week", "day", "hour"]
Basis = Literal["base", "ote"]

# Symbols that name exactly one currency. A bare "$" is USD, CAD, AUD, SGD... so it is not here.
SYMBOLS = {
    "£": "GBP",
    "€": "EUR",
    "US$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "¥": "JPY",
    "₹": "INR",
}
CODES = (
    "USD",
    "GBP",
    "EUR",
    "CAD",
    "AUD",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "SGD",
    "INR",
    "JPY",
    "NZD",
    "ILS",
    "BRL",
    "MXN",
)

_CURRENCY = r"(?:US\$|CA\$|C\$|AU\$|A\$|\$|£|€|¥|₹)"
_CODE = r"(?:" + "|".join(CODES) + r")"
# 180,000 · 180.000 · 180 000 · 180000 · 180 · 1.5 (with M) · 55.50
_NUMBER = r"\d{1,3}(?:[,.  ]\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_AMOUNT = (
    rf"(?P<{{p}}code1>{_CODE}\s?)?(?P<{{p}}sym>{_CURRENCY})?\s?(?P<{{p}}num>{_NUMBER})"
    rf"\s?(?P<{{p}}mult>[kKmM](?![a-zA-Z]))?(?:\s?(?P<{{p}}code2>{_CODE})(?![A-Za-z]))?"
)
_RANGE = re.compile(
    _AMOUNT.replace("{p}", "a_")
    + r"\s*(?:-|to|and)\s*"
    + _AMOUNT.replace("{p}", "b_")
    + r"(?P<tail>[^.;\n]{0,40})",
    re.IGNORECASE,
)
_INTERVALS: tuple[tuple[Interval, re.Pattern[str]], ...] = (
    ("hour", re.compile(r"(?:/\s?|per |an |a )h(?:ou)?r\b|\bhourly\b", re.I)),
    ("day", re.compile(r"(?:/\s?|per |a )day\b|\bdaily\b", re.I)),
    ("week", re.compile(r"(?:/\s?|per |a )(?:week|wk)\b|\bweekly\b", re.I)),
    ("month", re.compile(r"(?:/\s?|per |a )(?:month|mo)\b|\bmonthly\b", re.I)),
    (
        "year",
        re.compile(
            r"(?:/\s?|per |a )(?:year|yr|annum)\b|\bannual(?:ly)?\b|\byearly\b|\bp\.?a\.?(?![a-z])",
            re.I,
        ),
    ),
)
_OTE = re.compile(
    r"\bOTE\b|on[- ]target|target (?:total )?(?:earnings|compensation|cash)|"
    r"base (?:salary )?(?:\+|plus|and) (?:commission|variable|bonus)|"
    r"including (?:commission|variable)",
    re.I,
)
_BASE = re.compile(r"\bbase\b|\bsalary\b", re.I)
_TAGS = re.compile(r"<[^>]{0,2000}>")
_HIDDEN = re.compile(r"<(script|style)\b[^>]{0,2000}>.{0,100000}?</\1\s*>", re.I | re.S)
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")
# A yearly figure below this, or an hourly one above the next, is not what it seems.
MIN_YEARLY = 10_000
MAX_HOURLY = 1_000


@dataclass(frozen=True)
class Pay:
    """A pay range with everything explicit: ``low <= high``, both positive."""

    low: int
    high: int
    currency: str
    interval: Interval
    basis: Basis

    def __post_init__(self) -> None:
        if not 0 < self.low <= self.high:
            raise ValueError(f"not a pay range: {self.low}–{self.high}")


def plain_text(text: str) -> str:
    """HTML (even entity-escaped HTML, as Greenhouse sends it) to one line of plain text."""
    for _ in range(2):  # Greenhouse escapes its HTML once more: &lt;p&gt;
        text = html.unescape(text)
    text = _HIDDEN.sub(" ", text)  # what a browser never shows is not text
    text = _TAGS.sub(" ", text)
    text = _DASHES.sub("-", text)
    text = _CONTROLS.sub(" ", text)  # no terminal escapes or NULs from a board
    return _SPACES.sub(" ", text).strip()


def _number(raw: str, mult: str | None) -> float | None:
    digits = raw.replace(" ", "").replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", digits):
        value = float(re.sub(r"[,.]", "", digits))
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d{1,2}", digits):
        value = float(digits.replace(",", ""))
    else:
        try:
            value = float(digits.replace(",", ""))
        except ValueError:
            return None
    if mult:
        value *= 1_000 if mult.lower() == "k" else 1_000_000
    return value


DOLLARS = frozenset({"USD", "CAD", "AUD", "SGD", "NZD"})


def _currency_of(
    match: re.Match[str], prefix: str, dollar: str | None, range_code: str | None
) -> str | bool | None:
    """The currency one end names; ``None`` if it names none, ``False`` if it cannot be told.

    A bare ``$`` takes the dollar code written next to the range (``$180K-$240K USD``), else
    the caller's ``dollar``; with neither it is ambiguous.
    """
    code = match.group(f"{prefix}code1") or match.group(f"{prefix}code2")
    symbol = match.group(f"{prefix}sym")
    named = {code.strip().upper()} if code else set()
    if symbol in SYMBOLS:
        named.add(SYMBOLS[symbol])
    elif symbol and not code:
        choice = range_code if range_code in DOLLARS else dollar
        if choice is None:
            return False  # a bare "$" outside the US: which dollar?
        named.add(choice)
    if len(named) > 1:
        return False
    return named.pop() if named else None


def _interval_of(tail: str, low: float, high: float) -> Interval | None:
    for interval, pattern in _INTERVALS:
        if pattern.search(tail):
            return interval
    if low >= MIN_YEARLY * 2:
        return "year"  # six figures without a period: a yearly salary, in every market we cover
    return None


def _basis_near(text: str, start: int, end: int) -> Basis:
    """OTE when the nearest pay word before the range (or just after it) says so."""
    before = text[max(0, start - 90) : start]
    after = text[end : end + 40]
    ote = [m.end() for m in _OTE.finditer(before)]
    base = [m.end() for m in _BASE.finditer(before)]
    if ote and (not base or max(ote) >= max(base)):
        return "ote"
    if not base and _OTE.search(after):
        return "ote"
    return "base"


def _candidate(text: str, match: re.Match[str], dollar: str | None) -> Pay | None:
    a_mult, b_mult = match.group("a_mult"), match.group("b_mult")
    a_num = match.group("a_num")
    if b_mult and not a_mult and a_num.isdigit() and int(a_num) < 1000:
        a_mult = b_mult  # "$180-240K": the K belongs to both ends
    low = _number(match.group("a_num"), a_mult)
    high = _number(match.group("b_num"), b_mult)
    if low is None or high is None or low <= 0 or high <= 0:
        return None
    codes = {
        c.strip().upper()
        for c in (match.group(g) for g in ("a_code1", "a_code2", "b_code1", "b_code2"))
        if c
    }
    range_code = codes.pop() if len(codes) == 1 else None
    first = _currency_of(match, "a_", dollar, range_code)
    second = _currency_of(match, "b_", dollar, range_code)
    if first is False or second is False:
        return None
    currencies = {c for c in (first, second) if isinstance(c, str)}
    if len(currencies) != 1:
        return None  # no currency named, or two different ones
    if low > high:
        return None  # "$240K - $180K" is a typo or not a range: do not repair it
    if high > low * 5:
        return None  # not a pay range ("$5 to $100M")
    interval = _interval_of(match.group("tail"), low, high)
    if interval is None:
        return None
    if interval == "year" and low < MIN_YEARLY:
        return None
    if interval == "hour" and high > MAX_HOURLY:
        return None
    return Pay(
        low=round(low),
        high=round(high),
        currency=currencies.pop(),
        interval=interval,
        basis=_basis_near(text, match.start(), match.start("tail")),
    )


def pay_from_text(raw: str, *, dollar: str | None = None) -> Pay | None:
    """The posting's pay range, or ``None`` when the text gives none or is ambiguous.

    ``dollar`` is the currency a bare ``$`` stands for (``"USD"`` for a US posting); without
    it a bare ``$`` names no currency. Several ranges of one basis, currency and period
    (pay zones) become the span of them; ranges that disagree otherwise make no answer,
    except that an OTE range next to a base range is kept as the OTE (how SE roles are
    compared).
    """
    text = plain_text(raw)[:50_000]
    found = [pay for m in _RANGE.finditer(text) if (pay := _candidate(text, m, dollar))]
    if not found:
        return None
    ote = [p for p in found if p.basis == "ote"]
    chosen = ote or found
    kinds = {(p.currency, p.interval, p.basis) for p in chosen}
    if len(kinds) != 1:
        return None
    currency, interval, basis = kinds.pop()
    return Pay(
        low=min(p.low for p in chosen),
        high=max(p.high for p in chosen),
        currency=currency,
        interval=interval,
        basis=basis,
    )


def span(pays: list[Pay]) -> Pay | None:
    """The span of several structured ranges (pay zones), if they agree on everything else."""
    kinds = {(p.currency, p.interval, p.basis) for p in pays}
    if len(kinds) != 1:
        return None
    currency, interval, basis = kinds.pop()
    return Pay(min(p.low for p in pays), max(p.high for p in pays), currency, interval, basis)


def basis_from_words(*texts: str | None) -> Basis:
    """OTE if any of the board's labels for a range says so, else base."""
    return "ote" if any(t and _OTE.search(plain_text(t)) for t in texts) else "base"
