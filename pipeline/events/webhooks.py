"""``POST /webhooks/{provider}``: verify first, then normalise and apply, in one transaction.

401/403 when verification fails, 400 when an authentic body cannot be read, 404 for a
provider we do not know, 413 for an oversized body; never a 5xx for anything a caller sends.
Logs name the provider and the reason, never headers, credentials or bodies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pipeline import metrics
from pipeline.events.errors import MalformedEvent, WebhookRejected
from pipeline.events.ingest import WebhookInbox, ingest_payload
from pipeline.events.providers import SOURCES, EventSource
from pipeline.events.providers.base import HttpGet, VerifyContext, WebhookRequest, fetch_url
from pulse_core.database import transaction

log = logging.getLogger(__name__)

# What a provider's payload can throw at a parser that a MalformedEvent check missed:
# still the caller's fault, so still a 400.
_PAYLOAD_SURPRISES = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def webhook_router(
    inbox: WebhookInbox,
    *,
    http_get: HttpGet = fetch_url,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    """The provider webhook routes; ``http_get`` and ``clock`` are seams for tests."""
    router = APIRouter()
    cache: dict[str, object] = {}

    def handle(source: EventSource, request: WebhookRequest) -> JSONResponse:
        policy = inbox.policy()
        try:
            with transaction(inbox.sessions) as session:
                context = VerifyContext(inbox.credentials, session, http_get, clock, cache)
                payload = source.authenticate(request, context)
                try:
                    report = ingest_payload(session, source, payload, policy)
                except _PAYLOAD_SURPRISES as err:
                    surprise = type(err).__name__
                    log.warning("webhook %s: unreadable payload (%s)", source.name, surprise)
                    raise MalformedEvent("body", "not in the provider's documented shape") from err
        except WebhookRejected as err:
            log.warning("webhook %s refused: %s", source.name, err.reason)
            metrics.webhook_refused(source.name, "refused")
            challenge = err.status_code == 401
            headers = {"WWW-Authenticate": 'Basic realm="webhooks"'} if challenge else {}
            return JSONResponse({"error": err.reason}, status_code=err.status_code, headers=headers)
        except MalformedEvent as err:
            log.warning("webhook %s malformed: %s", source.name, err)
            metrics.webhook_refused(source.name, "malformed")
            return JSONResponse({"error": str(err)}, status_code=400)
        except RecursionError:
            # json.loads on thousands of nested brackets, before or after authentication.
            log.warning("webhook %s: JSON nested too deeply", source.name)
            return JSONResponse({"error": "body: JSON nested too deeply"}, status_code=400)
        metrics.webhook_events(source.name, report.by_type)
        return JSONResponse({"status": "ok", **report.as_dict()})

    @router.post("/webhooks/{provider}", include_in_schema=False)
    async def receive_webhook(provider: str, request: Request) -> JSONResponse:
        source = SOURCES.get(provider)
        if source is None:
            return JSONResponse({"error": f"unknown provider {provider!r}"}, status_code=404)
        limit = inbox.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return JSONResponse({"error": "body too large"}, status_code=413)
        # Streamed and cut off at the limit whatever the framing: a chunked body has no
        # Content-Length, and must not be buffered whole before authentication.
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return JSONResponse({"error": "body too large"}, status_code=413)
            chunks.append(chunk)
        body = b"".join(chunks)
        headers = {name.lower(): value for name, value in request.headers.items()}
        return await run_in_threadpool(handle, source, WebhookRequest(headers, body))

    return router
