"""A real uvicorn server on 127.0.0.1 with an ephemeral port, run in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from tests.subscribers.conftest import MakePulse


@contextmanager
def running_server(make_pulse: MakePulse, **overrides: object) -> Iterator[tuple[str, Pulse]]:
    """Serve the app; yields its base URL (which the emails' links also use) and wiring."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    pulse = make_pulse(base_url=base_url, **overrides)
    config = uvicorn.Config(create_app(pulse), log_level="warning", lifespan="off", backlog=512)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield base_url, pulse
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
