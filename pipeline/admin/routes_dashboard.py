"""The dashboard: the next unsent week (or any chosen one), its readiness, actions and issues."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.admin.stats import recent_issues
from pipeline.admin.web import DeskError, EditorActor, page, pulse_of
from pipeline.config import PLACEHOLDER_POSTAL_ADDRESS, Settings
from pipeline.errors import ValidationError
from pipeline.issues.lifecycle import allowed_actions, desk_weeks, next_unsent_week, send_time_of
from pipeline.issues.models import Issue
from pipeline.issues.readiness import check_readiness
from pipeline.weeks import parse_week
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow

# Gmail clips messages whose HTML is larger than this.
GMAIL_CLIP_BYTES = 102 * 1024


def desk_week(pulse: Pulse, now: datetime) -> str:
    """The next unsent week: the issue editors are working on (past any sent early)."""
    with pulse.db.sessions() as session:
        return next_unsent_week(session, pulse.settings, now)


def chosen_week(pulse: Pulse, value: str | None, now: datetime) -> str:
    """The week named in ``?week=``, or the next unsent one; a bad value is a clear 400."""
    if not value:
        return desk_week(pulse, now)
    try:
        return parse_week(value)
    except ValidationError as err:
        raise DeskError(400, str(err)) from err


def desk_checks(settings: Settings, issue: Issue | None) -> list[str]:
    """Problems worth fixing before the send that readiness does not cover."""
    problems = []
    if settings.postal_address == PLACEHOLDER_POSTAL_ADDRESS:
        problems.append("PULSE_POSTAL_ADDRESS is still the placeholder (CAN-SPAM needs it)")
    if issue is not None:
        size = len(issue.html.encode())
        if size > GMAIL_CLIP_BYTES:
            problems.append(f"the HTML is {size // 1024} KB; Gmail clips above 102 KB")
        if len(issue.subject) > 70:
            problems.append(f"the subject is {len(issue.subject)} characters (keep to 70)")
    return problems


def load_issue(session: Session, week: str) -> Issue | None:
    return session.scalar(select(Issue).where(Issue.week_key == week))


def dashboard_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("")
    def dashboard(request: Request, actor: EditorActor, week: str | None = None) -> Response:
        pulse = pulse_of(request)
        now = utcnow()
        upcoming = desk_week(pulse, now)
        chosen = chosen_week(pulse, week, now)
        with transaction(pulse.db.sessions) as session:
            readiness = check_readiness(session, week=chosen, settings=pulse.settings, now=now)
            issue = load_issue(session, chosen)
            checks = desk_checks(pulse.settings, issue)
            issues = sorted(recent_issues(session), key=lambda i: i.week_key, reverse=True)
            weeks = desk_weeks(session, upcoming)
        return page(
            request,
            "admin/dashboard.html",
            actor,
            week=chosen,
            upcoming=upcoming,
            weeks=weeks,
            send_at=send_time_of(pulse.settings, chosen),
            timezone=pulse.settings.timezone,
            readiness=readiness,
            issue=issue,
            actions=allowed_actions(issue),
            checks=checks,
            issues=issues,
        )

    return router
