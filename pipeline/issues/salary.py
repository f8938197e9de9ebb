"""Salary Pulse maths: ranges per role × level, trends against older data, small samples.

A cell's *current* figure pools the data points recorded within a week of the latest
observation for that role × level (weighted by each point's ``sample_size``). Its trend
compares the range midpoint with the pooled figure of the newest earlier observation at
least :data:`TREND_MIN_DAYS` older. Pools never mix currencies: that is an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content.models import SalaryPoint
from pipeline.errors import IssueError
from pipeline.issues.comparisons import ComparisonSpec
from pipeline.issues.view import SalaryCell, SalaryRow, SalaryTable

TREND_MIN_DAYS = 7
POOL_DAYS = 7
LOOKBACK_DAYS = 120
NOT_ENOUGH_DATA = "not enough data"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


class SalaryDataError(IssueError):
    """Salary data cannot be summed up as asked (e.g. two currencies in one cell)."""


@dataclass(frozen=True)
class Pool:
    """Data points pooled into one range."""

    currency: str
    low: int
    high: int
    data_points: int
    latest: date

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2


def pool(points: Sequence[SalaryPoint], *, role: str, level: str) -> Pool:
    """Weighted mean range of ``points``; raise :class:`SalaryDataError` on mixed currencies."""
    currencies = sorted({p.currency for p in points})
    if len(currencies) != 1:
        raise SalaryDataError(mixed_currency_message(points, role=role, level=level))
    weight = sum(p.sample_size for p in points)
    return Pool(
        currency=currencies[0],
        low=round(sum(p.low * p.sample_size for p in points) / weight),
        high=round(sum(p.high * p.sample_size for p in points) / weight),
        data_points=weight,
        latest=max(p.as_of for p in points),
    )


def mixed_currency_message(points: Sequence[SalaryPoint], *, role: str, level: str) -> str:
    """Which points disagree, and how to fix them (the fewer-in-number currency is suspect)."""
    by_currency: dict[str, list[int]] = defaultdict(list)
    for point in points:
        by_currency[point.currency].append(point.id)
    codes = ", ".join(sorted(by_currency))
    head = f"salary data for {role} / {level} mixes currencies ({codes})"
    if any(point.id is None for point in points):
        return f"{head}; set a region on the comparison or fix the data points"
    usual = max(by_currency, key=lambda code: (len(by_currency[code]), code))
    listed = "; ".join(
        f"{code}: point{'s' if len(ids) > 1 else ''} {', '.join(map(str, sorted(ids)))}"
        for code, ids in sorted(by_currency.items())
    )
    odd = sorted(i for code, ids in by_currency.items() if code != usual for i in ids)
    return (
        f"{head}: {listed}. Fix point{'s' if len(odd) > 1 else ''} "
        f"{', '.join(map(str, odd))} with `pulse salary edit {odd[0]} --currency {usual}` or "
        f"`pulse salary remove {odd[0]}` (or Edit / Remove on the desk's Salary page), "
        "or set a region on the comparison"
    )


def current_and_previous(
    points: Iterable[SalaryPoint], as_of: date
) -> tuple[list[SalaryPoint], list[SalaryPoint]]:
    """Split one role × level's points into the current pool and the earlier one."""
    usable = [p for p in points if p.as_of <= as_of]
    recent = [p for p in usable if p.as_of >= as_of - timedelta(days=LOOKBACK_DAYS)]
    if not recent:
        return [], []
    latest = max(p.as_of for p in recent)
    current = [p for p in recent if p.as_of > latest - timedelta(days=POOL_DAYS)]
    older = [p for p in usable if p.as_of <= latest - timedelta(days=TREND_MIN_DAYS)]
    if not older:
        return current, []
    previous_latest = max(p.as_of for p in older)
    previous = [p for p in older if p.as_of > previous_latest - timedelta(days=POOL_DAYS)]
    return current, previous


def format_money(amount: int, currency: str) -> str:
    """``175000, "USD"`` → ``$175K``; other currencies keep their code."""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    if amount >= 1_000_000:
        return f"{symbol}{amount / 1_000_000:.1f}M"
    return f"{symbol}{round(amount / 1000)}K"


def format_range(low: int, high: int, currency: str) -> str:
    return f"{format_money(low, currency)}–{format_money(high, currency)}"


def format_pay(low: int, high: int, currency: str, interval: str = "year") -> str:
    """A listing's pay: yearly as ``$180K–$240K``, hourly as ``$55–$70/hour``."""
    if interval == "year":
        return format_range(low, high, currency)
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    return f"{symbol}{low:,}–{symbol}{high:,}/{interval}"


def trend_between(current: Pool, previous: Pool | None) -> tuple[str, str, float | None]:
    """(symbol form, word form, percent change) of the midpoint; "new" without history."""
    if previous is None:
        return "new", "new", None
    change = round((current.midpoint - previous.midpoint) / previous.midpoint * 100, 1)
    if change > 0:
        return f"▲ {change:.1f}%", f"up {change:.1f}%", change
    if change < 0:
        return f"▼ {-change:.1f}%", f"down {-change:.1f}%", change
    return "= 0.0%", "unchanged", 0.0


def salary_cell(
    points: Sequence[SalaryPoint], *, role: str, level: str, as_of: date, min_points: int
) -> SalaryCell:
    """The cell for one role × level as of ``as_of``."""
    current_points, previous_points = current_and_previous(points, as_of)
    if not current_points:
        return SalaryCell(NOT_ENOUGH_DATA, role=role)
    current = pool(current_points, role=role, level=level)
    if current.data_points < min_points:
        return SalaryCell(NOT_ENOUGH_DATA, role=role, data_points=current.data_points)
    previous = pool(previous_points, role=role, level=level) if previous_points else None
    if previous is not None and previous.currency != current.currency:
        raise SalaryDataError(
            f"salary data for {role} / {level} changed currency "
            f"({previous.currency} → {current.currency}); a trend cannot compare them"
        )
    if previous is not None and previous.data_points < min_points:
        previous = None  # too thin to compare against: report the figure as new
    trend, trend_text, change = trend_between(current, previous)
    return SalaryCell(
        text=format_range(current.low, current.high, current.currency),
        trend=trend,
        trend_text=trend_text,
        role=role,
        currency=current.currency,
        low=current.low,
        high=current.high,
        data_points=current.data_points,
        change_pct=change,
    )


def comparison_points(
    session: Session, spec: ComparisonSpec, as_of: date
) -> dict[tuple[str, str], list[SalaryPoint]]:
    """The comparison's data points up to ``as_of``, grouped by (role, level)."""
    roles = [role for role, _heading in spec.columns]
    query = (
        select(SalaryPoint)
        .where(SalaryPoint.role.in_(roles), SalaryPoint.level.in_(spec.levels))
        .where(SalaryPoint.as_of <= as_of)
        .where(SalaryPoint.pay_basis == spec.pay_basis)  # base and OTE are never pooled
    )
    if spec.region:
        query = query.where(SalaryPoint.region == spec.region)
    grouped: dict[tuple[str, str], list[SalaryPoint]] = defaultdict(list)
    for point in session.scalars(query):
        grouped[(point.role, point.level)].append(point)
    return grouped


def salary_table(
    session: Session, spec: ComparisonSpec, *, as_of: date, min_points: int
) -> SalaryTable:
    """One comparison's table with trends and a source line."""
    grouped = comparison_points(session, spec, as_of)
    rows = tuple(
        SalaryRow(
            level=level,
            cells=tuple(
                salary_cell(
                    grouped.get((role, level), []),
                    role=role,
                    level=level,
                    as_of=as_of,
                    min_points=min_points,
                )
                for role, _heading in spec.columns
            ),
        )
        for level in spec.levels
    )
    return SalaryTable(
        title=spec.title,
        columns=(spec.first_column, *(heading for _role, heading in spec.columns)),
        rows=rows,
        source=source_line(grouped.values(), spec, min_points),
        key=spec.key,
    )


# How the source line names a table's pay basis (``total`` keeps the original wording).
BASIS_NAMES = {"base": "base salary", "ote": "on-target earnings (OTE)"}


def source_names(points: Sequence[SalaryPoint]) -> list[str]:
    """Each source once; a source built from job postings says how many postings it rests on."""
    postings: dict[str, int] = defaultdict(int)
    for point in points:
        postings[point.source] += point.postings
    return [
        f"{name} ({count} posting{'s' if count != 1 else ''})" if count else name
        for name, count in sorted(postings.items())
    ]


def source_line(groups: Iterable[list[SalaryPoint]], spec: ComparisonSpec, min_points: int) -> str:
    points = [p for group in groups for p in group]
    if not points:
        return "Source: no data points recorded yet."
    sources = "; ".join(source_names(points))
    latest = max(p.as_of for p in points).isoformat()
    region = f" Region: {spec.region}." if spec.region else ""
    basis = f" Pay: {BASIS_NAMES[spec.pay_basis]}." if spec.pay_basis in BASIS_NAMES else ""
    return (
        f"Source: {sources}.{region}{basis} Data up to {latest}. Trends compare range midpoints "
        f"with data at least {TREND_MIN_DAYS} days older; cells with fewer than {min_points} data "
        "points are not shown."
    )
