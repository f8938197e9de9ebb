"""Growth on the desk: the referral leaderboard and totals, and the embeddable form's snippets."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pipeline.admin.web import EditorActor, page, pulse_of
from pipeline.subscriber_wiring import web_policy
from pulse_core.database import transaction
from subscribers.referrals import leaderboard, referral_totals
from subscribers.web.embed_origins import shown_origin
from subscribers.web.embed_routes import embed_snippet, iframe_snippet

LEADERBOARD_SIZE = 25


def growth_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/growth")
    def growth(request: Request, actor: EditorActor) -> Response:
        pulse = pulse_of(request)
        with transaction(pulse.db.sessions) as session:
            leaders = leaderboard(session, LEADERBOARD_SIZE)
            totals = referral_totals(session)
        policy = pulse.subscribers.policy
        origins = [shown_origin(origin) for origin in web_policy(pulse.settings).embed_origins]
        base_url = pulse.settings.base_url
        return page(
            request, "admin/growth.html", actor, leaders=leaders, totals=totals,
            milestones=policy.referral_milestones, origins=origins,
            snippet=embed_snippet(base_url), iframe=iframe_snippet(base_url),
        )  # fmt: skip

    return router
