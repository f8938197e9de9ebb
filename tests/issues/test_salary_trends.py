"""Salary Pulse maths: trends, small samples, mixed currencies, and tables from the database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from pipeline.issues.comparisons import save_comparison, spec_of
from pipeline.issues.salary import NOT_ENOUGH_DATA, SalaryDataError, salary_cell, salary_table
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from tests.issues.conftest import point

TODAY = date(2026, 11, 22)


def cell(points: list, min_points: int = 3):  # type: ignore[no-untyped-def]
    return salary_cell(
        points, role="AI Sales Engineer", level="Senior", as_of=TODAY, min_points=min_points
    )


def test_no_earlier_data_is_new() -> None:
    result = cell([point(on=TODAY)])
    assert result.text == "$200K–$250K"
    assert (result.trend, result.trend_text, result.change_pct) == ("new", "new", None)


def test_rise_of_the_midpoint_shows_up_arrow_and_percent() -> None:
    earlier = point(low=200_000, high=250_000, on=TODAY - timedelta(days=14))
    now = point(low=210_000, high=260_000, on=TODAY)  # midpoint 225K → 235K = +4.4%
    result = cell([earlier, now])
    assert (result.trend, result.trend_text, result.change_pct) == ("▲ 4.4%", "up 4.4%", 4.4)


def test_fall_shows_down_arrow() -> None:
    earlier = point(low=200_000, high=250_000, on=TODAY - timedelta(days=10))
    now = point(low=190_000, high=240_000, on=TODAY)
    result = cell([earlier, now])
    assert result.trend == "▼ 4.4%" and result.trend_text == "down 4.4%"
    assert result.change_pct == -4.4


def test_equal_values_are_unchanged() -> None:
    result = cell([point(on=TODAY - timedelta(days=7)), point(on=TODAY)])
    assert (result.trend, result.trend_text, result.change_pct) == ("= 0.0%", "unchanged", 0.0)


def test_data_less_than_seven_days_older_is_not_a_trend_baseline() -> None:
    result = cell([point(low=100_000, on=TODAY - timedelta(days=6)), point(on=TODAY)])
    assert result.trend == "new"
    # ...and it is pooled into the current figure instead (weighted mean of both lows).
    assert result.low == 150_000


def test_trend_compares_with_the_newest_earlier_pool() -> None:
    points = [
        point(low=100_000, high=150_000, on=TODAY - timedelta(days=60)),
        point(low=200_000, high=250_000, on=TODAY - timedelta(days=20)),
        point(low=220_000, high=270_000, on=TODAY),
    ]
    assert cell(points).change_pct == pytest.approx(8.9)


def test_pool_is_weighted_by_sample_size() -> None:
    points = [point(low=100_000, high=100_000, n=1), point(low=200_000, high=200_000, n=3)]
    assert cell(points).low == 175_000


def test_fewer_data_points_than_the_threshold_show_not_enough_data() -> None:
    result = cell([point(on=TODAY, n=2)])
    assert result.text == NOT_ENOUGH_DATA and not result.shown and result.data_points == 2
    assert cell([point(on=TODAY, n=2), point(on=TODAY, n=1)]).shown  # 3 points: shown
    assert not cell([point(on=TODAY, n=4)], min_points=5).shown


def test_thin_earlier_data_is_no_baseline() -> None:
    result = cell([point(on=TODAY - timedelta(days=14), n=1), point(on=TODAY)])
    assert result.trend == "new"


def test_no_data_at_all_is_not_enough_data() -> None:
    assert cell([]).text == NOT_ENOUGH_DATA
    assert cell([point(on=TODAY + timedelta(days=1))]).text == NOT_ENOUGH_DATA  # future only


def test_mixed_currencies_in_one_cell_are_an_error() -> None:
    with pytest.raises(
        SalaryDataError, match=r"AI Sales Engineer / Senior mixes currencies \(EUR, USD\)"
    ):
        cell([point(on=TODAY), point(on=TODAY, currency="EUR")])


def test_currency_change_against_the_baseline_is_an_error() -> None:
    with pytest.raises(SalaryDataError, match="changed currency"):
        cell([point(on=TODAY - timedelta(days=14), currency="EUR"), point(on=TODAY)])


def test_other_currencies_keep_their_symbol_or_code() -> None:
    assert cell([point(on=TODAY, currency="EUR")]).text == "€200K–€250K"
    assert cell([point(on=TODAY, currency="CHF")]).text == "CHF 200K–CHF 250K"


def add_points(session: Session, *points) -> None:  # type: ignore[no-untyped-def]
    session.add_all(points)
    session.flush()


def test_table_follows_the_editors_comparison(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        add_points(
            session,
            point(on=TODAY - timedelta(days=14)),
            point(low=210_000, high=260_000, on=TODAY),
            point("ML Engineer", on=TODAY, n=2),
            point("AI Sales Engineer", "Staff", on=TODAY, currency="EUR", region="EU"),
        )
        row = save_comparison(
            session,
            key="se-vs-mle",
            title="Pay by level",
            levels=["Senior", "Staff"],
            columns=["AI Sales Engineer=AI SE", "ML Engineer=MLE"],
            region="US",
        )
        table = salary_table(session, spec_of(row), as_of=TODAY, min_points=3)
    assert table.columns == ("Level", "AI SE", "MLE")
    assert [r.level for r in table.rows] == ["Senior", "Staff"]
    senior, staff = table.rows
    assert senior.cells[0].trend == "▲ 4.4%"
    assert senior.cells[1].text == NOT_ENOUGH_DATA
    assert all(c.text == NOT_ENOUGH_DATA for c in staff.cells)  # the EU point is filtered out
    assert table.source.startswith("Source: Test survey.") and "Region: US" in table.source
