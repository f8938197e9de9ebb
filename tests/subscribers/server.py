"""The app on a real port, with the wiring built for that port (its emails link back to it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from tests.conftest import MakePulse
from tests.harness.server import serving


@contextmanager
def running_server(make_pulse: MakePulse, **overrides: object) -> Iterator[tuple[str, Pulse]]:
    """Serve the app; yields its base URL (which the emails' links also use) and wiring."""
    built: list[Pulse] = []

    def build(base_url: str) -> FastAPI:
        built.append(make_pulse(base_url=base_url, **overrides))
        return create_app(built[0])

    with serving(build) as base_url:
        yield base_url, built[0]
