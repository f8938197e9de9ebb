"""The public archive: every issue whose send has begun, as web pages, Atom and salary data.

Pages render from the view stored with the issue, never from the mailed HTML, so no
subscriber's links or name can appear on the web.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from pipeline.errors import ValidationError
from pipeline.issues.models import Issue
from pipeline.issues.render import environment
from pipeline.issues.states import SEND_BEGUN
from pipeline.issues.view import IssueView, SalaryTable, view_from_json
from pipeline.subscriber_wiring import web_policy
from pipeline.weeks import parse_week
from pipeline.wiring import Pulse
from subscribers.spreadsheet import safe_writer
from subscribers.spreadsheet import spreadsheet_safe as spreadsheet_safe  # re-exported
from subscribers.web.forms import FormGuard

FEED_SIZE = 20
CSV_COLUMNS = (
    "table",
    "title",
    "level",
    "column",
    "role",
    "status",
    "currency",
    "low",
    "high",
    "data_points",
    "trend",
    "change_pct",
)


def published_at(issue: Issue) -> datetime:
    return issue.sent_at or issue.send_started_at or issue.built_at


def atom_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def salary_rows(view: IssueView) -> list[dict[str, Any]]:
    """One record per salary cell, for CSV and JSON."""
    rows = []
    for table in view.salary_tables:
        for row in table.rows:
            for heading, cell in zip(table.columns[1:], row.cells, strict=True):
                rows.append(
                    {
                        "table": table.key,
                        "title": table.title,
                        "level": row.level,
                        "column": heading,
                        "role": cell.role,
                        "status": "shown" if cell.shown else "not enough data",
                        "currency": cell.currency,
                        "low": cell.low,
                        "high": cell.high,
                        "data_points": cell.data_points,
                        "trend": cell.trend_text or None,
                        "change_pct": cell.change_pct,
                    }
                )
    return rows


def salaries_csv(view: IssueView) -> str:
    buffer = io.StringIO()
    writer = safe_writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in salary_rows(view):
        writer.writerow(record.get(column) for column in CSV_COLUMNS)
    return buffer.getvalue()


def salaries_json(issue: Issue, view: IssueView) -> dict[str, Any]:
    def table_json(table: SalaryTable) -> dict[str, Any]:
        return {
            "key": table.key,
            "title": table.title,
            "columns": list(table.columns),
            "source": table.source,
        }

    return {
        "issue": issue.number,
        "week": issue.week_key,
        "tables": [table_json(table) for table in view.salary_tables],
        "cells": salary_rows(view),
    }


def headline(subject: str, number: int) -> str:
    """The subject without its ``AISE Pulse Brief #N:`` prefix (the page shows the number)."""
    prefix = f"AISE Pulse Brief #{number}:"
    return subject.removeprefix(prefix).strip() if subject.startswith(prefix) else subject


def archive_router(pulse: Pulse) -> APIRouter:
    """Routes for ``/issues``, ``/issues/{key}``, the salary downloads and ``/feed.xml``."""
    router = APIRouter()
    env = environment()
    env.globals["headline"] = headline
    base_url = pulse.settings.base_url
    signup_guard = FormGuard(pulse.signer, web_policy(pulse.settings))

    def published() -> list[Issue]:
        with pulse.db.sessions() as session:
            query = select(Issue).where(Issue.status.in_(SEND_BEGUN)).order_by(Issue.number.desc())
            return list(session.scalars(query))

    def find(key: str) -> tuple[Issue, IssueView] | None:
        try:
            week = parse_week(key)
        except ValidationError:
            return None
        with pulse.db.sessions() as session:
            issue = session.scalar(
                select(Issue).where(Issue.week_key == week, Issue.status.in_(SEND_BEGUN))
            )
        if issue is None or not issue.view_json:
            return None
        return issue, view_from_json(issue.view_json)

    def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        body = env.get_template(f"web/{template}").render(base_url=base_url, **context)
        return HTMLResponse(body, status_code=status_code)

    def not_found() -> HTMLResponse:
        return page("not_found.html", status_code=404, title="Issue not found")

    @router.get("/issues", response_class=HTMLResponse)
    def archive() -> HTMLResponse:
        return page("archive.html", title="Archive", issues=published())

    @router.get("/issues/{key}", response_class=HTMLResponse)
    def web_version(key: str, request: Request) -> HTMLResponse:
        found = find(key)
        if found is None:
            return not_found()
        issue, view = found
        # The signup form under the issue is the same CSRF-protected form as on `/`.
        nonce, form_token = signup_guard.issue(request)
        response = page(
            "issue.html",
            title=f"#{issue.number}: {headline(issue.subject, issue.number)}",
            issue=issue,
            view=view,
            form_token=form_token,
        )
        signup_guard.set_cookie(response, nonce)
        return response

    @router.get("/issues/{key}/salaries.csv")
    def salaries_as_csv(key: str) -> Response:
        found = find(key)
        if found is None:
            return not_found()
        issue, view = found
        return Response(
            salaries_csv(view),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="pulse-{issue.week_key}.csv"'},
        )

    @router.get("/issues/{key}/salaries.json")
    def salaries_as_json(key: str) -> Response:
        found = find(key)
        if found is None:
            return not_found()
        issue, view = found
        return JSONResponse(salaries_json(issue, view))

    @router.get("/feed.xml")
    def feed() -> Response:
        issues = published()[:FEED_SIZE]
        updated = max((published_at(i) for i in issues), default=None)
        body = env.get_template("web/feed.xml").render(
            base_url=base_url,
            issues=issues,
            updated=atom_time(updated) if updated else "1970-01-01T00:00:00Z",
            entry_time=lambda issue: atom_time(published_at(issue)),
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    return router
