"""Pay extraction against real-world phrasings, and properties the parser must never break."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.intake.pay import CODES, SYMBOLS, Pay, pay_from_text

# (text, currency a bare "$" stands for, expected (low, high, currency, interval, basis) or None)
PHRASINGS = [
    (
        "The base salary range for this role is $180,000 – $240,000.",
        "USD",
        (180000, 240000, "USD", "year", "base"),
    ),
    ("Salary: $180K-$240K USD", None, (180000, 240000, "USD", "year", "base")),
    ("UK: £90k–£110k + equity", None, (90000, 110000, "GBP", "year", "base")),
    ("Pay: $55 - $70 per hour", "USD", (55, 70, "USD", "hour", "base")),
    ("between $45 and $60 an hour", "USD", (45, 60, "USD", "hour", "base")),
    ("$62.50-$80.00/hr", "USD", (62, 80, "USD", "hour", "base")),
    ("OTE: $250,000 - $300,000 (60/40 split)", "USD", (250000, 300000, "USD", "year", "ote")),
    ("On-target earnings of $220K to $280K", "USD", (220000, 280000, "USD", "year", "ote")),
    (
        "The OTE range is $200,000 - $260,000, with a base salary of $140K-$182K.",
        "USD",
        (200000, 260000, "USD", "year", "ote"),
    ),
    ("$160,000 - $200,000 base + commission", "USD", (160000, 200000, "USD", "year", "ote")),
    ("Base pay range: $150,000—$190,000 per year", "USD", (150000, 190000, "USD", "year", "base")),
    ("€85.000 - €100.000 per year", None, (85000, 100000, "EUR", "year", "base")),
    ("CA$150,000 to CA$180,000", None, (150000, 180000, "CAD", "year", "base")),
    ("US$120k–150k", None, (120000, 150000, "USD", "year", "base")),
    ("$180-240K", "USD", (180000, 240000, "USD", "year", "base")),
    (
        "Zone A: $180,000 - $200,000. Zone B: $160,000 - $180,000.",
        "USD",
        (160000, 200000, "USD", "year", "base"),
    ),
    ("120,000 - 150,000 GBP annually", None, (120000, 150000, "GBP", "year", "base")),
    ("€6.000 - €7.500 per month", None, (6000, 7500, "EUR", "month", "base")),
    # Greenhouse sends HTML entity-escaped, sometimes twice.
    (
        "&lt;p&gt;Base salary: $150,000&amp;nbsp;&amp;ndash;&amp;nbsp;$190,000&lt;/p&gt;",
        "USD",
        (150000, 190000, "USD", "year", "base"),
    ),
    # No answer: ambiguous, not pay, or reversed.
    ("$180,000 – $240,000", None, None),  # which dollar? the posting is not in the US
    ("5 - 10 years of experience", "USD", None),
    ("$240K - $180K", "USD", None),
    ("401(k) and a $5,000 - $10,000 signing bonus", "USD", None),
    ("$150 - $200", "USD", None),  # no period and too small to be a salary
    ("£90k - $110k", None, None),  # two currencies
    ("$5 to $100M in pipeline", "USD", None),
    ("Competitive salary and equity", "USD", None),
    ("", "USD", None),
]


@pytest.mark.parametrize(("text", "dollar", "expected"), PHRASINGS)
def test_pay_from_real_world_phrasings(
    text: str, dollar: str | None, expected: tuple | None
) -> None:
    pay = pay_from_text(text, dollar=dollar)
    got = None if pay is None else (pay.low, pay.high, pay.currency, pay.interval, pay.basis)
    assert got == expected


def test_pay_object_refuses_a_reversed_range() -> None:
    with pytest.raises(ValueError):
        Pay(200, 100, "USD", "year", "base")


_money_words = st.sampled_from(
    [
        "$",
        "£",
        "€",
        "USD",
        "GBP",
        "K",
        "k",
        " - ",
        " to ",
        "–",
        ",",
        ".",
        "per hour",
        "OTE",
        "base",
        "/yr",
        " ",
        "000",
        "180",
        "240",
        "55",
        "9",
        "<p>",
        "&amp;",
        "&lt;",
        "\n",
    ]
)
_texts = st.lists(st.one_of(_money_words, st.text(max_size=8)), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(_texts, st.sampled_from([None, "USD"]))
def test_never_a_range_with_low_above_high(text: str, dollar: str | None) -> None:
    pay = pay_from_text(text, dollar=dollar)
    if pay is not None:
        assert 0 < pay.low <= pay.high
        assert pay.interval in ("year", "month", "week", "day", "hour")
        assert pay.basis in ("base", "ote")


def _names_currency(text: str, currency: str) -> bool:
    symbols = [s for s, code in SYMBOLS.items() if code == currency]
    return currency in text.upper() or any(s in text for s in symbols)


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_never_a_currency_the_text_does_not_name(text: str) -> None:
    pay = pay_from_text(text, dollar=None)
    if pay is not None:
        assert _names_currency(text, pay.currency), (text, pay)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="$£€¥₹"), max_size=300))
def test_no_currency_sign_or_code_means_no_pay(text: str) -> None:
    if any(re.search(code, text, re.I) for code in CODES):
        return
    assert pay_from_text(text, dollar="USD") is None


@settings(max_examples=200, deadline=None)
@given(st.integers(10_000, 900_000), st.integers(0, 300_000), st.sampled_from(["$", "£", "€"]))
def test_a_written_yearly_range_reads_back(low: int, extra: int, symbol: str) -> None:
    high = low + extra
    if high > low * 5:
        return
    pay = pay_from_text(f"Salary {symbol}{low:,} - {symbol}{high:,} per year", dollar="USD")
    assert pay is not None
    assert (pay.low, pay.high, pay.interval) == (low, high, "year")
