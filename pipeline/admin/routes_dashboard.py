"""The dashboard: the next unsent week (or any chosen one), its readiness, actions and issues.

Its verdict is :func:`pipeline.workflow.check.check_week`'s, with no checks of its own.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pipeline.admin.stats import recent_issues
from pipeline.admin.web import DeskError, EditorActor, page, pulse_of
from pipeline.errors import ValidationError
from pipeline.issues.build import find_issue
from pipeline.issues.lifecycle import allowed_actions
from pipeline.weeks import parse_week
from pipeline.wiring import Pulse
from pipeline.workflow.calendar import desk_weeks, send_time_of, upcoming_week
from pipeline.workflow.check import check_week
from pulse_core.database import transaction, utcnow


def chosen_week(pulse: Pulse, value: str | None, now: datetime) -> str:
    """The week named in ``?week=``, or the next unsent one; a bad value is a clear 400."""
    if not value:
        return upcoming_week(pulse, now)
    try:
        return parse_week(value)
    except ValidationError as err:
        raise DeskError(400, str(err)) from err


def dashboard_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("")
    def dashboard(request: Request, actor: EditorActor, week: str | None = None) -> Response:
        pulse = pulse_of(request)
        now = utcnow()
        upcoming = upcoming_week(pulse, now)
        chosen = chosen_week(pulse, week, now)
        # The one verdict: readiness with lint's problems, as the CLI and scheduler see it.
        readiness = check_week(pulse, chosen, now)
        with transaction(pulse.db.sessions) as session:
            issue = find_issue(session, chosen)
            issues = sorted(recent_issues(session), key=lambda i: i.week_key, reverse=True)
            weeks = desk_weeks(session, upcoming)
        return page(
            request,
            "admin/dashboard.html",
            actor,
            week=chosen,
            upcoming=upcoming,
            weeks=weeks,
            send_at=send_time_of(pulse.schedule, chosen),
            timezone=pulse.settings.timezone,
            readiness=readiness,
            issue=issue,
            actions=allowed_actions(issue),
            issues=issues,
        )

    return router
