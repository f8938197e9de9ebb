"""The desk's issue report (``/admin/report``) and delivery ledger (``/admin/deliveries``)."""

from __future__ import annotations

import html
import logging
import re

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from pipeline.admin.report_chart import clicks_chart
from pipeline.admin.web import (
    DeskError,
    EditorActor,
    desk_headers,
    editor_form,
    page,
    pulse_of,
    redirect,
)
from pipeline.analytics.ledger import LEDGER_STATUSES, LedgerStatus, ledger_csv
from pipeline.analytics.report import IssueReport, links_csv, report_json
from pipeline.delivery.compose import IssueMailer
from pipeline.errors import IssueError, PulseError
from pipeline.issues.build import get_issue
from pipeline.wiring import Pulse
from pipeline.workflow import analytics as issue_analytics
from pipeline.workflow import decisions
from pulse_core.database import transaction

log = logging.getLogger(__name__)
LEDGER_PAGE = 500
_MARKED = re.compile(r'(<a\b[^>]*?href="[^"#]*)#pulse-link-(\d+)("[^>]*>.*?</a>)', re.DOTALL)


def _week(pulse: Pulse, week: str | None) -> str:
    try:
        return issue_analytics.report_week(pulse, week or None)
    except PulseError as err:
        raise DeskError(404, str(err)) from err


def annotated_issue(pulse: Pulse, week: str, report: IssueReport) -> str:
    """The issue as mailed (to the sample reader), each tracked link followed by its count."""
    counts = {f.link.position: f for f in report.links}
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, week)
        mailer = IssueMailer(issue, pulse.identity, pulse.signer)
    batch, reader = mailer.sample()
    values = dict(reader.values)
    for name, position in mailer.tracked:
        values[name] = f"{mailer.direct[name]}#pulse-link-{position}"
    body = batch.html.merge({k: html.escape(v, quote=True) for k, v in values.items()})

    def badge(match: re.Match[str]) -> str:
        figure = counts.get(int(match.group(2)))
        if figure is None:  # the hidden decoy
            return match.group(1) + match.group(3)
        note = (
            f'<span style="background:#fff3c4;color:#1d2330;border:1px solid #8a5a00;'
            f'border-radius:4px;padding:0 4px;margin-left:4px;font:bold 12px sans-serif;">'
            f"{figure.human_clicks} human · {figure.machine_clicks} machine</span>"
        )
        return match.group(1) + match.group(3) + note

    return _MARKED.sub(badge, body)


def analytics_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/report")
    def report_page(request: Request, actor: EditorActor, week: str | None = None) -> Response:
        pulse = pulse_of(request)
        key = _week(pulse, week)
        found = issue_analytics.week_report(pulse, key)
        return page(
            request,
            "admin/report.html",
            actor,
            week=key,
            report=found,
            chart=clicks_chart(found.timeline),
            annotated=annotated_issue(pulse, key, found),
        )

    @router.get("/report.csv")
    def report_csv(request: Request, actor: EditorActor, week: str | None = None) -> Response:
        pulse = pulse_of(request)
        key = _week(pulse, week)
        body = links_csv(issue_analytics.week_report(pulse, key))
        response = Response(body, media_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="links-{key}.csv"'
        return desk_headers(response)

    @router.get("/report.json")
    def report_json_export(
        request: Request, actor: EditorActor, week: str | None = None
    ) -> Response:
        pulse = pulse_of(request)
        key = _week(pulse, week)
        body = report_json(issue_analytics.week_report(pulse, key))
        return desk_headers(Response(body, media_type="application/json"))

    @router.get("/deliveries")
    def deliveries_page(
        request: Request,
        actor: EditorActor,
        week: str | None = None,
        status: str = "",
        q: str = "",
    ) -> Response:
        pulse = pulse_of(request)
        key = _week(pulse, week)
        chosen = _status(status)
        entries = issue_analytics.week_ledger(
            pulse, key, status=chosen, search=q[:200] or None, limit=LEDGER_PAGE + 1
        )
        retryable = sum(
            1 for e in issue_analytics.week_ledger(pulse, key, status="failed") if e.retryable
        )
        return page(
            request,
            "admin/deliveries.html",
            actor,
            week=key,
            entries=entries[:LEDGER_PAGE],
            more=len(entries) > LEDGER_PAGE,
            statuses=LEDGER_STATUSES,
            selected_status=status,
            q=q[:200],
            retryable=retryable,
        )

    @router.get("/deliveries.csv")
    def deliveries_csv(
        request: Request, actor: EditorActor, week: str | None = None, status: str = "",
        q: str = "",
    ) -> Response:  # fmt: skip
        pulse = pulse_of(request)
        key = _week(pulse, week)
        entries = issue_analytics.week_ledger(
            pulse, key, status=_status(status), search=q[:200] or None
        )
        response = Response(ledger_csv(entries), media_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="deliveries-{key}.csv"'
        return desk_headers(response)

    @router.post("/deliveries/retry-failed")
    async def retry_failed(request: Request, actor: EditorActor, week: str = Form("")) -> Response:
        await editor_form(request)
        pulse = pulse_of(request)
        key = await run_in_threadpool(_week, pulse, week)
        try:
            await run_in_threadpool(decisions.request_retry_failed, pulse, key, actor.email)
        except IssueError as err:  # e.g. the send is still running: nothing to retry yet
            raise DeskError(400, str(err)) from err
        return redirect(
            f"/admin/deliveries?week={key}",
            message=(
                "Retry requested: the scheduler or a worker re-sends the fixable failures "
                "within a minute; refresh to see them go out."
            ),
        )

    return router


def _status(value: str) -> LedgerStatus | None:
    if not value:
        return None
    if value not in LEDGER_STATUSES:
        raise DeskError(400, f"status must be one of {', '.join(LEDGER_STATUSES)}")
    return value
