"""The web app's skeleton."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pipeline.web.app import create_app
from pipeline.wiring import Pulse


def test_healthz_answers(pulse: Pulse) -> None:
    client = TestClient(create_app(pulse))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
