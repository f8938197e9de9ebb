"""The desk's deliverability page: the same checks as ``pulse doctor``, as a table."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pipeline.admin.web import EditorActor, page, pulse_of
from pipeline.deliverability.doctor import Level, make_resolver, post_one_click, run_checks
from pipeline.wiring import domain_setup


def deliverability_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/deliverability")
    def deliverability(request: Request, actor: EditorActor) -> Response:
        # A sync route: FastAPI runs it in a worker thread, so the DNS lookups and the
        # one-click probe (which may come back to this very server) block nobody.
        settings = pulse_of(request).settings
        resolver = make_resolver(settings.dns_nameserver_list)
        checks = run_checks(domain_setup(settings), resolver, post_one_click)
        return page(
            request,
            "admin/deliverability.html",
            actor,
            checks=checks,
            failed=sum(1 for check in checks if check.level is Level.FAIL),
            domain=settings.sender.domain,
            provider=settings.provider,
        )

    return router
