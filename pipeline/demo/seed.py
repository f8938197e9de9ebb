"""Seed a realistic week: salary points, jobs, snippets and example.com subscribers.

Every figure comes from the newsletter's career guide (SEED-FACTS.md). Seeding twice adds
nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.content import queue
from pipeline.content.models import JobListing, SalaryPoint
from pipeline.issues.comparisons import SalaryComparison, save_comparison
from subscribers.service import ImportSummary, NewSubscriber, import_subscribers

DEMO_SOURCE = "AISE Pulse Brief compensation survey"
DEMO_COMPARISON = "ai-se-vs-mle"
# Used by `pulse demo` with the file provider when PULSE_POSTAL_ADDRESS is unset.
DEMO_POSTAL_ADDRESS = "AISE Pulse Brief (demo), 100 Example Street, Springfield, IL 62701, USA"
DEMO_CONSENT = "Demo data: example.com readers who asked for weekly career intelligence."

# (level, AI SE low/high, MLE low/high) in USD, per the career guide.
SALARY_BANDS = (
    ("Mid-level", (175_000, 225_000), (180_000, 240_000)),
    ("Senior", (220_000, 285_000), (230_000, 280_000)),
    ("Staff / Principal", (250_000, 320_000), (270_000, 350_000)),
)

# Earlier observations a month before, slightly lower, so trends have something to compare.
EARLIER_FACTOR = 0.97

JOBS = (
    (
        "Northwind Labs",
        "AI Solutions Engineer",
        "Remote (US)",
        True,
        175_000,
        225_000,
        "https://jobs.example.com/northwind/ai-solutions-engineer",
    ),
    (
        "Contoso AI",
        "Senior Sales Engineer, ML Platform",
        "New York, NY (hybrid)",
        False,
        220_000,
        285_000,
        "https://careers.example.org/contoso/senior-se-ml-platform",
    ),
    (
        "Fabrikam Cloud",
        "Staff Solutions Architect, GenAI",
        "Remote (US/Canada)",
        True,
        250_000,
        320_000,
        "https://jobs.example.com/fabrikam/staff-sa-genai",
    ),
    (
        "Tailspin Data",
        "Pre-Sales Engineer, LLM Infrastructure",
        "San Francisco, CA (hybrid)",
        False,
        190_000,
        240_000,
        "https://careers.example.org/tailspin/presales-llm-infra",
    ),
)

SNIPPETS = (
    (
        "editors-note",
        "Pay holds steady; quarter-end hiring picks up",
        "For the median practitioner at each level, total compensation for AI Sales Engineers "
        "and ML Engineers is **within 10%** of each other. Here is what moved this week.",
        None,
    ),
    (
        "salary-pulse",
        "AI SE and MLE pay are neck and neck until Staff",
        "Top MLEs at frontier AI labs can out-earn SEs by $50K or more at Staff/Principal "
        "level, mostly through equity. AI SE pay carries a variable part, typically 20%–40% "
        "of the total; MLE pay is almost all base plus equity.",
        None,
    ),
    (
        "role-insights",
        "Moving from MLE to SE takes 3 to 9 months",
        "The technical knowledge transfers at once; the commercial skills (discovery, demo "
        "delivery, competitive positioning) take practice. The reverse move, SE to MLE, "
        "typically takes 12 to 24 months of focused study.",
        None,
    ),
    (
        "role-insights",
        "AI SE code is demo code",
        "API integrations with the prospect's data, notebooks and POC apps: reliable in front "
        "of a customer, not built for production scale.",
        None,
    ),
    (
        "role-insights",
        "Why SE work is harder to automate",
        "AI coding assistants automate parts of ML engineering (code, tests, model "
        "selection); the SE's trust-building and live conversation are harder to automate.",
        None,
    ),
    (
        "quick-links",
        "Demand spikes at quarter-end",
        "SE demand spikes around quarter-end deal closings and large POCs; MLE crunches come "
        "with launches and incidents.",
        "https://www.example.com/pulse/quarter-end-hiring",
    ),
)


@dataclass(frozen=True)
class SeedReport:
    salary_points: int
    jobs: int
    snippets: int
    subscribers: ImportSummary


def _salary_points(as_of: date) -> list[queue.SalaryInput]:
    inputs = []
    earlier = as_of - timedelta(days=28)
    for level, se_band, mle_band in SALARY_BANDS:
        for role, (low, high) in (("AI Sales Engineer", se_band), ("ML Engineer", mle_band)):
            for offset, sample in enumerate((42, 35, 28)):
                jitter = (offset - 1) * 2_000
                inputs.append(
                    queue.SalaryInput(
                        role,
                        level,
                        "USD",
                        low + jitter,
                        high + jitter,
                        "US",
                        DEMO_SOURCE,
                        sample,
                        as_of - timedelta(days=offset),
                    )
                )
                inputs.append(
                    queue.SalaryInput(
                        role,
                        level,
                        "USD",
                        round(low * EARLIER_FACTOR / 1000) * 1000 + jitter,
                        round(high * EARLIER_FACTOR / 1000) * 1000 + jitter,
                        "US",
                        DEMO_SOURCE,
                        sample,
                        earlier - timedelta(days=offset),
                    )
                )
    return inputs


def seed_comparison(session: Session) -> None:
    """The demo's Salary Pulse table, unless editors already defined it."""
    if session.scalar(select(SalaryComparison.id).where(SalaryComparison.key == DEMO_COMPARISON)):
        return
    save_comparison(
        session,
        key=DEMO_COMPARISON,
        title="Total compensation by level",
        levels=[level for level, _se, _mle in SALARY_BANDS],
        columns=["AI Sales Engineer=AI SE total comp", "ML Engineer=MLE total comp"],
        region="US",
    )


def seed_content(session: Session, week_monday: date) -> tuple[int, int, int]:
    """Salary points, jobs and snippets for the week starting ``week_monday``."""
    if session.scalar(select(SalaryPoint.id).where(SalaryPoint.source == DEMO_SOURCE).limit(1)):
        seed_comparison(session)
        return 0, 0, 0
    points = [queue.add_salary_point(session, data) for data in _salary_points(week_monday)]
    seed_comparison(session)  # after its data: a comparison nothing can fill is refused
    existing = set(session.scalars(select(JobListing.url)))
    jobs = 0
    for company, title, location, remote, low, high, url in JOBS:
        if url in existing:
            continue
        queue.add_job(
            session,
            company=company,
            title=title,
            location=location,
            url=url,
            remote=remote,
            comp_low=low,
            comp_high=high,
            expires_on=week_monday + timedelta(days=45),
        )
        jobs += 1
    for position, (section, title, body, link) in enumerate(SNIPPETS):
        queue.add_snippet(
            session, section=section, title=title, body=body, link=link, position=position
        )
    return len(points), jobs, len(SNIPPETS)


FIRST_NAMES = ("Alex", "Sam", "Priya", "Jordan", "Wei", "Maria", "Kofi", "Elena", None, None)


def demo_readers(count: int) -> list[tuple[int, NewSubscriber]]:
    return [
        (n, NewSubscriber(f"reader{n:06d}@example.com", FIRST_NAMES[n % len(FIRST_NAMES)]))
        for n in range(1, count + 1)
    ]


def seed_week(session: Session, week_monday: date, subscribers: int) -> SeedReport:
    points, jobs, snippets = seed_content(session, week_monday)
    summary = import_subscribers(
        session, demo_readers(subscribers), consent_text=DEMO_CONSENT, consent_source="demo"
    )
    return SeedReport(points, jobs, snippets, summary)
