"""``pulse content``, ``pulse salary`` and ``pulse jobs``: the editors' queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, new_app, pulse
from pipeline.content import queue
from pipeline.content.models import Section
from pipeline.errors import ValidationError
from subscribers.database import transaction, utcnow

content_app = new_app("Editorial snippets.")
salary_app = new_app("Salary data points.")
jobs_app = new_app("Job listings.")

SECTION_HELP = "one of: " + ", ".join(s.value for s in Section)


def read_csv_path(path: Path, field: str = "file") -> Path:
    if not path.is_file():
        raise ValidationError(field, f"{path} is not a readable file")
    return path


@content_app.command("add")
def content_add(
    section: Annotated[str, typer.Option(help=SECTION_HELP)],
    title: Annotated[str, typer.Option()],
    body: Annotated[str, typer.Option(help="Markdown")] = "",
    link: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str, typer.Option(help="draft or ready")] = "ready",
    week: Annotated[str | None, typer.Option(help="only for this ISO week, e.g. 2026-W48")] = None,
    position: Annotated[int, typer.Option(help="order within the section")] = 0,
) -> None:
    """Queue a snippet."""
    with transaction(pulse().db.sessions) as session:
        snippet = queue.add_snippet(
            session,
            section=section,
            title=title,
            body=body,
            link=link,
            status=status,
            target_week=week,
            position=position,
        )
        console.print(f"added snippet {snippet.id} to {snippet.section.value}")


@content_app.command("list")
def content_list(section: Annotated[str | None, typer.Option()] = None) -> None:
    """Show queued snippets."""
    with transaction(pulse().db.sessions) as session:
        table = Table("id", "section", "status", "week", "pos", "title")
        for s in queue.list_snippets(session, section=section):
            table.add_row(
                str(s.id),
                s.section.value,
                s.status.value,
                s.target_week or "",
                str(s.position),
                s.title,
            )
    console.print(table)


@salary_app.command("add")
def salary_add(
    role: Annotated[str, typer.Option()],
    level: Annotated[str, typer.Option()],
    low: Annotated[str, typer.Option()],
    high: Annotated[str, typer.Option()],
    source: Annotated[str, typer.Option()],
    sample_size: Annotated[str, typer.Option()],
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    currency: Annotated[str, typer.Option()] = "USD",
    region: Annotated[str, typer.Option()] = "US",
) -> None:
    """Record one salary data point."""
    data = queue.SalaryInput(role, level, currency, low, high, region, source, sample_size, as_of)
    with transaction(pulse().db.sessions) as session:
        point = queue.add_salary_point(session, data)
        console.print(f"added salary point {point.id}")


@salary_app.command("import")
def salary_import(path: Annotated[Path, typer.Argument(help="CSV with a header row")]) -> None:
    """Import salary points from CSV; any bad line aborts the whole file."""
    read_csv_path(path)
    with transaction(pulse().db.sessions) as session, path.open(newline="", encoding="utf-8") as f:
        count = queue.import_salary_csv(session, f)
    console.print(f"imported {count} salary points")


@salary_app.command("list")
def salary_list() -> None:
    """Show the latest salary points."""
    with transaction(pulse().db.sessions) as session:
        table = Table("id", "role", "level", "range", "n", "as of", "source")
        for p in queue.list_salary_points(session):
            table.add_row(
                str(p.id),
                p.role,
                p.level,
                f"{p.currency} {p.low:,}–{p.high:,}",
                str(p.sample_size),
                p.as_of.isoformat(),
                p.source,
            )
    console.print(table)


@jobs_app.command("add")
def jobs_add(
    company: Annotated[str, typer.Option()],
    title: Annotated[str, typer.Option()],
    location: Annotated[str, typer.Option()],
    url: Annotated[str, typer.Option()],
    remote: Annotated[bool, typer.Option("--remote/--onsite")] = False,
    comp_low: Annotated[int | None, typer.Option()] = None,
    comp_high: Annotated[int | None, typer.Option()] = None,
    currency: Annotated[str, typer.Option()] = "USD",
    expires: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
) -> None:
    """Queue a job listing."""
    with transaction(pulse().db.sessions) as session:
        job = queue.add_job(
            session,
            company=company,
            title=title,
            location=location,
            url=url,
            remote=remote,
            comp_low=comp_low,
            comp_high=comp_high,
            currency=currency,
            expires_on=expires,
        )
        console.print(f"added job {job.id}")


@jobs_app.command("list")
def jobs_list(
    fmt: Annotated[str, typer.Option("--format", help="table or json (a record per posting)")] = (
        "table"
    ),
) -> None:
    """Show job listings."""
    if fmt == "json":
        from pipeline.cli.jobs_intake import print_json
        from pipeline.intake.records import job_records

        with transaction(pulse().db.sessions) as session:
            print_json(job_records(session, utcnow().date()))
        return
    if fmt != "table":
        raise ValidationError("format", "must be table or json")
    with transaction(pulse().db.sessions) as session:
        table = Table("id", "company", "title", "location", "expires", "issue")
        for j in queue.list_jobs(session):
            table.add_row(
                str(j.id),
                j.company,
                j.title,
                j.location,
                j.expires_on.isoformat() if j.expires_on else "",
                str(j.issue_id or ""),
            )
    console.print(table)
