"""The dashboard: next issue's week, schedule, readiness, checks, and recent issues."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.admin.stats import recent_issues
from pipeline.admin.web import EditorActor, page, pulse_of
from pipeline.config import PLACEHOLDER_POSTAL_ADDRESS, Settings
from pipeline.issues.lifecycle import next_send_time
from pipeline.issues.models import Issue
from pipeline.issues.readiness import check_readiness
from pipeline.issues.weeks import week_key
from subscribers.database import transaction, utcnow

# Gmail clips messages whose HTML is larger than this.
GMAIL_CLIP_BYTES = 102 * 1024


def desk_week(settings: Settings, now: datetime) -> str:
    """The week of the next scheduled send: the issue editors are working on."""
    return week_key(next_send_time(settings, now).date())


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
    def dashboard(request: Request, actor: EditorActor) -> Response:
        pulse = pulse_of(request)
        now = utcnow()
        week = desk_week(pulse.settings, now)
        with transaction(pulse.db.sessions) as session:
            readiness = check_readiness(session, week=week, settings=pulse.settings, now=now)
            issue = load_issue(session, week)
            checks = desk_checks(pulse.settings, issue)
            issues = recent_issues(session)
        return page(
            request,
            "admin/dashboard.html",
            actor,
            week=week,
            send_at=next_send_time(pulse.settings, now),
            timezone=pulse.settings.timezone,
            readiness=readiness,
            issue=issue,
            checks=checks,
            issues=issues,
        )

    return router
