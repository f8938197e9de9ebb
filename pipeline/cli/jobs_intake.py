"""``pulse jobs sources|fetch|review|accept|reject``: job boards into the review queue."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import console, new_app, pulse
from pipeline.errors import ValidationError
from pipeline.intake import records, review, sources
from pipeline.workflow.intake import run_intake
from pulse_core.database import transaction, utcnow


def add_plain_row(table: Table, *cells: str) -> None:
    """A row of text as is: a board's "[red]" in a title is not console markup."""
    table.add_row(*(escape(cell) for cell in cells))


sources_app = new_app("Job boards to fetch (Greenhouse, Lever, Ashby).")
FORMATS = ("table", "json")


def output_format(value: str) -> str:
    if value not in FORMATS:
        raise ValidationError("format", "must be table or json")
    return value


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data), highlight=False)


@sources_app.command("add")
def sources_add(
    kind: Annotated[str, typer.Argument(help="greenhouse, lever or ashby")],
    board: Annotated[str, typer.Argument(help="the board's name, e.g. acme in jobs.lever.co/acme")],
    company: Annotated[str, typer.Option(help="company name shown in Who's Hiring")],
    auto_accept: Annotated[
        bool, typer.Option(help="list matching postings without review")
    ] = False,
) -> None:
    """Add a job board."""
    with transaction(pulse().db.sessions) as session:
        source = sources.add_board(
            session, kind=kind, board=board, company=company, auto_accept=auto_accept
        )
        console.print(f"added {sources.source_label(source)} ({source.company})", markup=False)


@sources_app.command("list")
def sources_list(fmt: Annotated[str, typer.Option("--format")] = "table") -> None:
    """Show the job boards and how their last fetch went."""
    output_format(fmt)
    with transaction(pulse().db.sessions) as session:
        rows = [
            {
                "id": s.id,
                "kind": s.kind.value,
                "board": s.board,
                "company": s.company,
                "auto_accept": s.auto_accept,
                "last_fetched_at": s.last_fetched_at.isoformat() if s.last_fetched_at else None,
                "last_result": s.last_result,
            }
            for s in sources.list_sources(session, feeds=False)
        ]
    if fmt == "json":
        print_json(rows)
        return
    table = Table("kind", "board", "company", "auto", "last fetch", "result")
    for row in rows:
        add_plain_row(
            table,
            str(row["kind"]),
            str(row["board"]),
            str(row["company"] or ""),
            "yes" if row["auto_accept"] else "",
            str(row["last_fetched_at"] or "never"),
            str(row["last_result"] or ""),
        )
    console.print(table)


@sources_app.command("remove")
def sources_remove(
    kind: Annotated[str, typer.Argument(help="greenhouse, lever or ashby")],
    board: Annotated[str, typer.Argument()],
) -> None:
    """Stop fetching a board; its open proposals go, its accepted listings stay."""
    with transaction(pulse().db.sessions) as session:
        sources.remove_source(session, kind=kind, board=board)
    console.print(f"removed {kind}:{board}", markup=False)


def fetch(fmt: Annotated[str, typer.Option("--format")] = "table") -> None:
    """Fetch every board and feed; report found, new, changed, gone and failed per source."""
    output_format(fmt)
    outcome = run_intake(pulse())
    if fmt == "json":
        print_json(
            {
                "sources": [r.as_dict() for r in outcome.reports],
                "rebuilt": outcome.rebuilt,
                "rebuild_failed": outcome.rebuild_failed,
                "requests": outcome.requests,
            }
        )
    else:
        table = Table("source", "found", "new", "changed", "gone", "failed")
        for r in outcome.reports:
            found = "not modified" if r.not_modified else str(r.found)
            add_plain_row(
                table, r.source, found, str(r.new), str(r.changed), str(r.gone), r.failed or ""
            )
        console.print(table)
        for week in outcome.rebuilt:
            console.print(f"rebuilt issue {week}: a closed job left it", markup=False)
        for week, reason in outcome.rebuild_failed.items():
            console.print(f"could not rebuild issue {week}: {reason}", markup=False)
    if outcome.reports and all(r.failed for r in outcome.reports):
        raise typer.Exit(1)


def _pay_text(pay: dict[str, Any] | None) -> str:
    if not pay:
        return ""
    basis = " OTE" if pay["basis"] == "ote" else ""
    return f"{pay['currency']} {pay['low']:,}–{pay['high']:,}/{pay['interval']}{basis}"


def review_queue(fmt: Annotated[str, typer.Option("--format")] = "table") -> None:
    """Show the proposals waiting for an editor: job postings, then Quick Links."""
    output_format(fmt)
    with transaction(pulse().db.sessions) as session:
        rows = records.review_records(session, utcnow().date())
    if fmt == "json":
        print_json(rows)
        return
    table = Table("id", "title", "company", "location", "level", "pay", "source", "note")
    for row in rows:
        add_plain_row(
            table,
            row["id"],
            row["title"],
            row["company"] or "",
            row["location"] or "",
            row.get("level") or "",
            _pay_text(row["pay"]),
            row["source"],
            "reposted" if row.get("reposted") else "",
        )
    console.print(table)
    console.print(f"{len(rows)} waiting; accept with `pulse jobs accept ID…` or `--all`")


def accept(
    ids: Annotated[list[str] | None, typer.Argument(help="review ids, e.g. 12 L3")] = None,
    all_: Annotated[bool, typer.Option("--all", help="accept every open proposal")] = False,
) -> None:
    """Accept proposals: jobs become Who's Hiring listings, links become Quick Links."""
    if bool(ids) == all_:
        raise ValidationError("id", "give review ids or --all (not both)")
    settings = pulse().settings
    with transaction(pulse().db.sessions) as session:
        today = utcnow().date()
        if all_:
            done = review.accept_all(session, role=settings.jobs_salary_role, today=today)
        else:
            done = review.accept(session, ids or [], role=settings.jobs_salary_role, today=today)
    console.print(f"accepted {len(done)}: {' '.join(map(str, done))}".rstrip(": "), markup=False)


def reject(ids: Annotated[list[str], typer.Argument(help="review ids, e.g. 12 L3")]) -> None:
    """Reject proposals; they stay rejected on later fetches."""
    with transaction(pulse().db.sessions) as session:
        done = review.reject(session, ids)
    console.print(f"rejected {len(done)}: {' '.join(map(str, done))}", markup=False)


def register(jobs_app: typer.Typer) -> None:
    """Attach the intake commands to ``pulse jobs``."""
    jobs_app.add_typer(sources_app, name="sources")
    jobs_app.command("fetch")(fetch)
    jobs_app.command("review")(review_queue)
    jobs_app.command("accept")(accept)
    jobs_app.command("reject")(reject)
