"""Base and OTE never share a figure; the source line says how many postings it rests on."""

from __future__ import annotations

from datetime import date

from pipeline.content.models import JobListing, SalaryPoint
from pipeline.issues.assemble import job_view
from pipeline.issues.comparisons import save_comparison, spec_of
from pipeline.issues.salary import salary_table
from pipeline.wiring import Pulse
from pulse_core.database import transaction

DAY = date(2026, 11, 24)


def _point(low: int, high: int, basis: str, source: str = "job postings") -> SalaryPoint:
    postings = 1 if source == "job postings" else 0
    return SalaryPoint(
        role="AI Sales Engineer",
        level="Senior",
        currency="USD",
        low=low,
        high=high,
        region="US",
        source=source,
        sample_size=1 if postings else 40,
        postings=postings,
        pay_basis=basis,
        as_of=DAY,
    )


def test_a_base_table_ignores_ote_and_survey_figures(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        session.add_all([_point(150_000, 190_000, "base") for _ in range(3)])
        session.add_all([_point(250_000, 300_000, "ote") for _ in range(3)])
        session.add(_point(400_000, 500_000, "total", source="Survey"))
        base = save_comparison(
            session,
            key="base",
            title="Base",
            levels=["Senior"],
            columns=["AI Sales Engineer=AI SE"],
            region="US",
            pay_basis="base",
        )
        ote = save_comparison(
            session,
            key="ote",
            title="OTE",
            levels=["Senior"],
            columns=["AI Sales Engineer=AI SE"],
            region="US",
            pay_basis="ote",
        )
        base_table = salary_table(session, spec_of(base), as_of=DAY, min_points=3)
        ote_table = salary_table(session, spec_of(ote), as_of=DAY, min_points=3)
    assert base_table.rows[0].cells[0].text == "$150K–$190K"
    assert ote_table.rows[0].cells[0].text == "$250K–$300K"
    assert base_table.source.startswith(
        "Source: job postings (3 postings). Region: US. Pay: base salary."
    )
    assert "on-target earnings (OTE)" in ote_table.source


def test_too_few_postings_show_not_enough_data(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        session.add_all([_point(150_000, 190_000, "base") for _ in range(2)])
        row = save_comparison(
            session,
            key="base",
            title="Base",
            levels=["Senior"],
            columns=["AI Sales Engineer=AI SE"],
            pay_basis="base",
        )
        table = salary_table(session, spec_of(row), as_of=DAY, min_points=3)
    assert table.rows[0].cells[0].text == "not enough data"
    assert "job postings (2 postings)" in table.source


def test_listings_show_their_pay_period_and_ote() -> None:
    hourly = JobListing(
        company="A",
        title="SE",
        location="Austin",
        remote=False,
        url="https://a",
        comp_low=55,
        comp_high=70,
        currency="USD",
        comp_interval="hour",
    )
    ote = JobListing(
        company="B",
        title="SE",
        location="NYC",
        remote=False,
        url="https://b",
        comp_low=250_000,
        comp_high=300_000,
        currency="USD",
        comp_interval="year",
        comp_basis="ote",
    )
    assert job_view(hourly).comp == "$55–$70/hour"
    assert job_view(ote).comp == "$250K–$300K OTE"
