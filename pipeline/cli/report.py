"""``pulse issue report|deliveries|retry-failed``: what readers did, who got it, and retries."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.table import Table

from pipeline.analytics.ledger import (
    LEDGER_STATUSES,
    LedgerStatus,
    ledger_csv,
    ledger_json,
)
from pipeline.analytics.report import IssueReport, links_csv, report_json
from pipeline.cli.common import console, pulse
from pipeline.errors import ValidationError
from pipeline.workflow import analytics as issue_analytics

Format = Literal["table", "json", "csv"]
WeekOption = Annotated[
    str | None,
    typer.Option("--week", help="ISO week such as 2026-W48 (default: the last issue sent)"),
]
FormatOption = Annotated[str, typer.Option("--format", help="table, json or csv")]


def _format(value: str) -> Format:
    if value not in ("table", "json", "csv"):
        raise ValidationError("--format", f"{value!r} is not one of table, json, csv")
    return value  # type: ignore[return-value]


def report(week: WeekOption = None, format: FormatOption = "table") -> None:
    """The issue report: deliveries, bounces, human and machine clicks per link."""
    shape = _format(format)
    app_ = pulse()
    found = issue_analytics.week_report(app_, issue_analytics.report_week(app_, week))
    if shape == "json":
        print(report_json(found))
    elif shape == "csv":
        print(links_csv(found), end="")
    else:
        _print_report(found)


def _print_report(found: IssueReport) -> None:
    console.print(f"{found.week_key}: “{found.subject}” ({found.status})", markup=False)
    summary = (
        f"recipients {found.recipients} · sent {found.sent} · delivered {found.delivered} · "
        f"failed {found.failed} · bounced {found.bounced_hard} hard / {found.bounced_soft} soft · "
        f"complained {found.complained} · unsubscribed after {found.unsubscribed}"
    )
    console.print(summary, markup=False)
    console.print(
        f"unique human clickers {found.human_clickers} · click-through "
        f"{found.click_through_rate:.1%} · human clicks {found.human_clicks} · "
        f"machine clicks {found.machine_clicks} (not counted)",
        markup=False,
    )
    if found.human_opens or found.machine_opens:
        console.print(
            f"opens: human {found.human_opens} · machine {found.machine_opens}", markup=False
        )
    table = Table("link", "section", "human", "machine", "url")
    for figure in found.links:
        table.add_row(
            figure.link.label or figure.link.key,
            figure.link.section,
            str(figure.human_clicks),
            str(figure.machine_clicks),
            figure.link.url,
        )
    console.print(table)
    if found.machine_reasons:
        why = ", ".join(f"{name} {count}" for name, count in found.machine_reasons.items())
        console.print(f"machine signs: {why}", markup=False)
    for by, rows in found.segments.items():
        split = Table(by, "sent", "openers", "clickers", "click-through", "unsubscribed")
        for row in rows:
            split.add_row(
                row.value,
                str(row.sent),
                str(row.openers),
                str(row.clickers),
                f"{row.click_through_rate:.1%}",
                str(row.unsubscribed),
            )
        console.print(split)


StatusOption = Annotated[
    str | None,
    typer.Option("--status", help="delivered, bounced, complained, failed, skipped or pending"),
]


def deliveries(
    week: WeekOption = None,
    status: StatusOption = None,
    search: Annotated[str | None, typer.Option(help="part of an address or reason")] = None,
    format: FormatOption = "table",
) -> None:
    """The delivery ledger: who received the issue, who did not, and why."""
    shape = _format(format)
    if status is not None and status not in LEDGER_STATUSES:
        raise ValidationError("--status", f"{status!r} is not one of {', '.join(LEDGER_STATUSES)}")
    app_ = pulse()
    key = issue_analytics.report_week(app_, week)
    chosen: LedgerStatus | None = status
    entries = issue_analytics.week_ledger(app_, key, status=chosen, search=search)
    if shape == "csv":
        print(ledger_csv(entries), end="")
        return
    if shape == "json":
        print(ledger_json(entries))
        return
    table = Table("delivery", "email", "status", "reason", "retryable")
    for entry in entries:
        table.add_row(
            str(entry.delivery_id),
            entry.email,
            entry.status,
            entry.reason,
            "yes" if entry.retryable else ("retried" if entry.retried else ""),
        )
    console.print(table)
    console.print(f"{len(entries)} recipient(s)")


def retry_failed(week: WeekOption = None) -> None:
    """Re-send the failures a retry can fix (transient, provider-side), each once ever."""
    app_ = pulse()
    key = issue_analytics.report_week(app_, week)
    result = issue_analytics.retry_failed_week(app_, key)
    if not result.requeued:
        console.print(
            f"{key}: no failure a retry can fix (bounces and suppressions are never retried)"
        )
        return
    console.print(
        f"{key}: re-queued {result.requeued}; sent {result.sent}, failed again {result.failed}",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the commands to the ``pulse issue`` group."""
    app.command("report")(report)
    app.command("deliveries")(deliveries)
    app.command("retry-failed")(retry_failed)
