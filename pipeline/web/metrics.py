"""``GET /metrics``: Prometheus exposition, for loopback scrapers or a bearer token.

With ``PULSE_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>`` (from
anywhere). Without it only clients on the loopback address may scrape: behind the reverse proxy
(``FORWARDED_ALLOW_IPS``) a request from outside arrives with its real address and is refused.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pipeline import gauges
from pipeline.wiring import Pulse


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "testclient"  # Starlette's TestClient has no address


def install_metrics(app: FastAPI, pulse: Pulse) -> None:
    token = pulse.settings.metrics_token

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if token is not None:
            given = request.headers.get("authorization", "")
            expected = f"Bearer {token.get_secret_value()}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse(
                    {"error": "a bearer token is required (PULSE_METRICS_TOKEN)"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        elif not _loopback(request.client.host if request.client else None):
            return JSONResponse(
                {"error": "metrics answer loopback clients only; set PULSE_METRICS_TOKEN"},
                status_code=403,
            )
        body = await run_in_threadpool(gauges.exposition, pulse.db.sessions)
        return Response(body, media_type=gauges.CONTENT_TYPE)
