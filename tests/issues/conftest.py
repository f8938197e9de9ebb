"""Fixtures for the issue area: a fixed view, a footer, and salary-point helpers."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.config import Settings, load_settings
from pipeline.content.models import SalaryPoint, Section
from pipeline.issues.markdown import markdown_to_html, markdown_to_text
from pipeline.issues.render import Footer
from pipeline.issues.view import (
    IssueView,
    Item,
    Job,
    SalaryCell,
    SalaryRow,
    SalaryTable,
    SectionView,
)

POSTAL = "AISE Pulse Brief, 100 Example Street, Springfield, IL 62701, USA"
FOOTER = Footer(base_url="https://pulse.example.com", postal_address=POSTAL)


def point(
    role: str = "AI Sales Engineer",
    level: str = "Senior",
    *,
    low: int = 200_000,
    high: int = 250_000,
    on: date = date(2026, 11, 20),
    n: int = 10,
    currency: str = "USD",
    region: str = "US",
) -> SalaryPoint:
    """An unsaved salary point (the maths works on plain rows)."""
    return SalaryPoint(
        role=role,
        level=level,
        currency=currency,
        low=low,
        high=high,
        region=region,
        source="Test survey",
        sample_size=n,
        as_of=on,
    )


def item(title: str, body: str = "", link: str | None = None) -> Item:
    return Item(title, markdown_to_html(body), markdown_to_text(body), link)


def fixed_view() -> IssueView:
    """A fixed issue used by the golden files: every section, a table with each cell kind."""
    cells = (
        SalaryCell(
            "$175K–$225K",
            "▲ 3.1%",
            "up 3.1%",
            "AI Sales Engineer",
            "USD",
            175_000,
            225_000,
            105,
            3.1,
        ),
        SalaryCell(
            "$180K–$240K", "▼ 1.2%", "down 1.2%", "ML Engineer", "USD", 180_000, 240_000, 98, -1.2
        ),
    )
    senior = (
        SalaryCell(
            "$220K–$285K", "new", "new", "AI Sales Engineer", "USD", 220_000, 285_000, 40, None
        ),
        SalaryCell("not enough data", role="ML Engineer", data_points=2),
    )
    table = SalaryTable(
        title="Total compensation by level",
        columns=("Level", "AI SE total comp", "MLE total comp"),
        rows=(SalaryRow("Mid-level", cells), SalaryRow("Senior", senior)),
        source="Source: Test survey. Data up to 2026-11-23.",
        key="ai-se-vs-mle",
    )
    sections = (
        SectionView(
            Section.EDITORS_NOTE,
            "Editor's note",
            (
                item(
                    "Pay holds steady",
                    "Hello **readers**, see [the guide](https://www.example.com/guide).",
                ),
            ),
        ),
        SectionView(
            Section.SALARY_PULSE,
            "Salary Pulse",
            (item("Neck and neck", "AI SE and MLE pay are close."),),
        ),
        SectionView(Section.WHOS_HIRING, "Who's Hiring", ()),
        SectionView(
            Section.ROLE_INSIGHTS, "Role Insights", (item("Demo code", "- notebooks\n- POC apps"),)
        ),
        SectionView(
            Section.QUICK_LINKS,
            "Quick Links",
            (item("Quarter-end demand", "SE demand spikes.", "https://www.example.com/q"),),
        ),
    )
    return IssueView(
        week_key="2026-W48",
        number=7,
        subject="AISE Pulse Brief #7: Pay holds steady",
        preheader="Salary trends, who's hiring and role insights.",
        sections=sections,
        salary_tables=(table,),
        jobs=(
            Job(
                "Northwind Labs",
                "AI Solutions Engineer",
                "Remote (US)",
                "$175K–$225K",
                "https://jobs.example.com/northwind/1",
            ),
        ),
    )


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        base_url="https://pulse.example.com",
        postal_address=POSTAL,
        secret_key="Tq8Zr3VxK1mTa9wLp0YcN4eHs7uJd2fGb6oRi5kW",
    )
