"""``pulse content``, ``pulse salary`` and ``pulse jobs``: the editors' queue.

Every queued item can be listed, added, edited and removed here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.admin.content import get_snippet, retire_snippet, update_snippet
from pipeline.cli.common import console, new_app, pulse
from pipeline.content import queue
from pipeline.content.models import Section
from pipeline.errors import ValidationError
from pipeline.issues.queue_edits import (
    JobChange,
    remove_job,
    remove_salary_points,
    update_job,
    update_salary_point,
)
from pulse_core.database import transaction, utcnow

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
    position: Annotated[
        int | None, typer.Option(help="order within the section (default: after the last)")
    ] = None,
    roles: Annotated[
        str | None,
        typer.Option(help="only for readers of these roles, e.g. ai-se,se-manager (default: all)"),
    ] = None,
) -> None:
    """Queue a snippet.

    Example: pulse content add --section quick-links --title 'SE comp survey' --link https://example.com/survey
    """
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
            target_roles=roles,
        )
        aimed = f" for {snippet.target_roles}" if snippet.target_roles else ""
        console.print(f"added snippet {snippet.id} to {snippet.section.value}{aimed}")


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
                # Aimed at some readers' roles: said after the title, only when it is.
                f"{s.title} (for {s.target_roles})" if s.target_roles else s.title,
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
    """Record one salary data point.

    \b
    Example:
      pulse salary add --role 'AI Sales Engineer' --level Senior \\
        --low 180000 --high 240000 --source 'Survey 2026' --sample-size 40 --as-of 2026-11-20
    """
    data = queue.SalaryInput(role, level, currency, low, high, region, source, sample_size, as_of)
    with transaction(pulse().db.sessions) as session:
        point = queue.add_salary_point(session, data)
        console.print(f"added salary point {point.id}")


@salary_app.command("import")
def salary_import(path: Annotated[Path, typer.Argument(help="CSV with a header row")]) -> None:
    """Import salary points from CSV; any bad line aborts the whole file."""
    read_csv_path(path)
    with (
        transaction(pulse().db.sessions) as session,
        path.open(newline="", encoding="utf-8-sig") as f,
    ):
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
    """Queue a job listing.

    \b
    Example:
      pulse jobs add --company Acme --title 'Solutions Engineer' --location NYC \\
        --url https://acme.example/jobs/1 --remote
    """
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


# --- changing and removing queued items ---------------------------------------------------


@content_app.command("edit")
def content_edit(
    snippet_id: Annotated[int, typer.Argument(help="id from `pulse content list`")],
    section: Annotated[str | None, typer.Option(help=SECTION_HELP)] = None,
    title: Annotated[str | None, typer.Option()] = None,
    body: Annotated[str | None, typer.Option(help="Markdown")] = None,
    link: Annotated[str | None, typer.Option(help="'' removes the link")] = None,
    status: Annotated[str | None, typer.Option(help="draft or ready")] = None,
    week: Annotated[str | None, typer.Option(help="ISO week; '' for any week")] = None,
    roles: Annotated[
        str | None, typer.Option(help="e.g. ai-se,se-manager; '' for every reader")
    ] = None,
) -> None:
    """Change a queued snippet (only the options given).

    Example: pulse content edit 12 --title "Discovery beats demos" --week 2026-W49
    """
    with transaction(pulse().db.sessions) as session:
        snippet = get_snippet(session, snippet_id)
        update_snippet(
            session,
            snippet,
            section=snippet.section.value if section is None else section,
            title=snippet.title if title is None else title,
            body=snippet.body_md if body is None else body,
            link=snippet.link if link is None else link,
            status=snippet.status.value if status is None else status,
            target_week=snippet.target_week if week is None else week,
            target_roles=snippet.target_roles if roles is None else roles,
        )
    console.print(f"changed snippet {snippet_id}")


@content_app.command("remove")
def content_remove(
    snippet_id: Annotated[int, typer.Argument(help="id from `pulse content list`")],
) -> None:
    """Take a snippet out of the queue for good (kept as a retired draft for the record)."""
    with transaction(pulse().db.sessions) as session:
        retire_snippet(session, get_snippet(session, snippet_id), utcnow())
    console.print(f"removed snippet {snippet_id} from the queue")


@salary_app.command("edit")
def salary_edit(
    point_id: Annotated[int, typer.Argument(help="id from `pulse salary list`")],
    role: Annotated[str | None, typer.Option()] = None,
    level: Annotated[str | None, typer.Option()] = None,
    currency: Annotated[str | None, typer.Option()] = None,
    low: Annotated[str | None, typer.Option()] = None,
    high: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option()] = None,
    source: Annotated[str | None, typer.Option()] = None,
    sample_size: Annotated[str | None, typer.Option()] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
) -> None:
    """Change a salary data point (only the options given).

    Example: pulse salary edit 7 --currency USD
    """
    given = {
        "role": role, "level": level, "currency": currency, "low": low, "high": high,
        "region": region, "source": source, "sample_size": sample_size, "as_of": as_of,
    }  # fmt: skip
    changes: dict[str, str | int | date] = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise ValidationError("edit", "give at least one option to change, e.g. --currency USD")
    with transaction(pulse().db.sessions) as session:
        point = update_salary_point(session, point_id, changes)
        console.print(
            f"changed salary point {point.id}: {point.role} / {point.level} "
            f"{point.currency} {point.low:,}–{point.high:,}",
            markup=False,
        )


@salary_app.command("remove")
def salary_remove(
    point_ids: Annotated[list[int], typer.Argument(help="ids from `pulse salary list`")],
) -> None:
    """Delete salary data points (issues already sent keep the tables they showed)."""
    with transaction(pulse().db.sessions) as session:
        count = remove_salary_points(session, point_ids)
    console.print(f"removed {count} salary point(s)")


def _rebuild_hint(week: str | None) -> None:
    if week:
        console.print(
            f"issue {week} was built with it: rebuild it with "
            f"`pulse issue build --week {week} --rebuild`",
            soft_wrap=True,
        )


@jobs_app.command("edit")
def jobs_edit(
    job_id: Annotated[int, typer.Argument(help="id from `pulse jobs list`")],
    company: Annotated[str | None, typer.Option()] = None,
    title: Annotated[str | None, typer.Option()] = None,
    location: Annotated[str | None, typer.Option()] = None,
    url: Annotated[str | None, typer.Option()] = None,
    remote: Annotated[bool | None, typer.Option("--remote/--onsite")] = None,
    comp_low: Annotated[int | None, typer.Option()] = None,
    comp_high: Annotated[int | None, typer.Option()] = None,
    no_comp: Annotated[bool, typer.Option("--no-comp", help="remove the pay range")] = False,
    currency: Annotated[str | None, typer.Option()] = None,
    expires: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="never expires")] = False,
) -> None:
    """Change a job listing (only the options given).

    Example: pulse jobs edit 3 --comp-low 180000 --comp-high 240000
    """
    change = JobChange(
        company=company, title=title, location=location, url=url, remote=remote,
        comp_low=comp_low, comp_high=comp_high, currency=currency, expires_on=expires,
        clear_comp=no_comp, clear_expiry=no_expiry,
    )  # fmt: skip
    with transaction(pulse().db.sessions) as session:
        job, week = update_job(session, job_id, change)
        console.print(f"changed job {job.id}: {job.title} at {job.company}", markup=False)
    _rebuild_hint(week)


@jobs_app.command("remove")
def jobs_remove(job_id: Annotated[int, typer.Argument(help="id from `pulse jobs list`")]) -> None:
    """Delete a job listing that has not gone out in an issue."""
    with transaction(pulse().db.sessions) as session:
        week = remove_job(session, job_id)
    console.print(f"removed job {job_id}")
    _rebuild_hint(week)
