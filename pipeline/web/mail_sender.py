"""``pulse serve``'s background sender for the signup mail queue.

Each signup request sends the queue right after its answer; this loop is the safety net
that picks up what a crash, a restart or a provider outage left behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from subscribers.context import SubscriberContext
from subscribers.signup import drain_signup_mail

log = logging.getLogger("pipeline.web.mail_sender")

INTERVAL_SECONDS = 30.0


class QueueSender:
    """A daemon thread draining the queue every ``interval`` seconds until stopped."""

    def __init__(self, ctx: SubscriberContext, interval: float = INTERVAL_SECONDS) -> None:
        self.ctx = ctx
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="signup-mail", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                drain_signup_mail(self.ctx)
            except Exception:  # the last resort of a background loop: log, try again later
                log.exception("the signup mail queue could not be sent")
            self._stop.wait(self.interval)


def signup_mail_lifespan(
    ctx: SubscriberContext,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan that runs a :class:`QueueSender` while the server runs."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sender = QueueSender(ctx)
        sender.start()
        try:
            yield
        finally:
            sender.stop()

    return lifespan
