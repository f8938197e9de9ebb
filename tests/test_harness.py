"""The shared harness itself: waits fail loudly, the live server serves what it was given."""

from __future__ import annotations

import itertools

import pytest
import requests
from fastapi import FastAPI

from tests.harness.server import serving
from tests.harness.waiting import eventually


def test_eventually_returns_the_first_truthy_answer() -> None:
    answers = itertools.chain([None, [], 0], itertools.repeat(["mail"]))
    assert eventually(lambda: next(answers), poll=0) == ["mail"]


def test_eventually_fails_naming_what_did_not_happen() -> None:
    with pytest.raises(AssertionError, match=r"the welcome email did not happen within 0\.1 s"):
        eventually(lambda: None, timeout=0.1, poll=0.01, what="the welcome email")


def test_the_live_server_serves_the_app_built_for_its_own_url() -> None:
    seen: list[str] = []

    def build(base_url: str) -> FastAPI:
        seen.append(base_url)
        app = FastAPI()
        app.get("/where")(lambda: {"base_url": base_url})
        return app

    with serving(build) as base_url:
        assert requests.get(f"{base_url}/where", timeout=10).json() == {"base_url": base_url}
    assert seen == [base_url]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/where", timeout=10)
