"""A real uvicorn server on 127.0.0.1 with an ephemeral port, run in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_SECONDS = 20


@contextmanager
def serving(build: Callable[[str], FastAPI]) -> Iterator[str]:
    """Serve ``build(base_url)``; yields the base URL, which the app may put in its links.

    The socket is bound before the app is built, so the app can know its own URL (emails'
    links point at it). The lifespan is off: the signup-mail safety net (a 30-second loop)
    would race the tests, which drain the queue themselves.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(build(base_url), log_level="warning", lifespan="off", backlog=512)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        # A real server in a real thread: uvicorn offers no start callback to wait on.
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
        sock.close()
