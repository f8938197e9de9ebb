"""A web server for bench/clicks.py, in its own process: the app, or a bare redirect handler.

Run as ``python bench/_click_server.py pulse|bare``; prints the port once it listens. The
``pulse`` app reads its settings from the environment the benchmark sets.
"""

from __future__ import annotations

import sys
import threading
import time

import uvicorn
from _common import ROOT  # noqa: F401  (puts the project on sys.path)
from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response

from pipeline.config import load_settings
from pipeline.web.app import create_app
from pipeline.wiring import Pulse


def bare_app() -> FastAPI:
    """The floor: a route that redirects without verifying or recording anything."""
    app = FastAPI()

    @app.api_route("/c/{token}", methods=["GET", "HEAD"])
    def click(token: str) -> Response:
        return RedirectResponse("https://jobs.example.com/listing", status_code=302)

    return app


def main() -> None:
    kind = sys.argv[1]
    app = create_app(Pulse(load_settings())) if kind == "pulse" else bare_app()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    print(server.servers[0].sockets[0].getsockname()[1], flush=True)
    thread.join()


if __name__ == "__main__":
    main()
