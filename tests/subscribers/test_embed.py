"""The embeddable form: origin allow-list, the step on this site, the same bot defences."""

from __future__ import annotations

import contextlib
import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import QueuedMail
from subscribers.web.embed_origins import normalise_origin, parse_origins, request_origin
from tests.forgery import altered
from tests.subscribers.conftest import MakePulse, Outbox, subscriber

PARTNER = "http://partner.example:8080"
OWN = "http://127.0.0.1:8000"  # the default PULSE_BASE_URL
EMBED_TOKEN = re.compile(r'name="embed_token" value="([^"]+)"')


@pytest.fixture
def site(make_pulse: MakePulse) -> Pulse:
    return make_pulse(embed_origins=f"{PARTNER}, https://blog.example")


@pytest.fixture
def client(site: Pulse) -> TestClient:
    return TestClient(create_app(site))


def queued(site: Pulse) -> int:
    """Signups queued so far (each is recorded, and its confirmation queued, after it)."""
    with transaction(site.db.sessions) as session:
        signups = select(func.count()).select_from(QueuedMail).where(QueuedMail.kind == "signup")
        return session.scalar(signups) or 0


def snippet_post(client: TestClient, origin: str | None, **data: str):  # type: ignore[no-untyped-def]
    headers = {"Origin": origin} if origin else {}
    form = {"email": "ana@example.com", "first_name": "Ana", "website": ""} | data
    return client.post("/embed/subscribe", data=form, headers=headers)


def step_token(page_text: str) -> str:
    found = EMBED_TOKEN.search(page_text)
    assert found, "the page has no embed token"
    return found.group(1)


def test_snippet_from_a_listed_site_gets_a_step_here_and_queues_nothing_yet(
    site: Pulse, client: TestClient, outbox: Outbox
) -> None:
    step = snippet_post(client, PARTNER)
    assert step.status_code == 200 and "One more step" in step.text
    assert 'value="ana@example.com"' in step.text
    assert queued(site) == 0
    done = client.post(
        "/embed/subscribe",
        data={"embed_token": step_token(step.text), "email": "ana@example.com", "website": ""},
        headers={"Origin": OWN},
    )
    assert done.status_code == 200 and "Check your inbox" in done.text
    ana = subscriber(site, "ana@example.com")
    assert ana is not None and ana.status.value == "pending"
    assert ana.consent_source == f"embed:{PARTNER}"
    [message] = outbox.to("ana@example.com")
    assert "/confirm/" in Outbox.text(message)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://partner.example:8081",
        "https://partner.example:8080",
        "null",
        None,
    ],
)
def test_snippet_from_any_other_origin_is_refused_and_nothing_is_queued(
    site: Pulse, client: TestClient, origin: str | None
) -> None:
    response = snippet_post(client, origin)
    assert response.status_code == 403
    assert "embed_token" not in response.text
    assert queued(site) == 0


def test_referer_stands_in_for_a_missing_origin(client: TestClient) -> None:
    ok = client.post(
        "/embed/subscribe",
        data={"email": "ana@example.com"},
        headers={"Referer": f"{PARTNER}/blog/post?x=1"},
    )
    assert ok.status_code == 200 and "embed_token" in ok.text
    bad = client.post(
        "/embed/subscribe",
        data={"email": "ana@example.com"},
        headers={"Referer": "http://partner.example.evil.test:8080/"},
    )
    assert bad.status_code == 403


def test_the_step_must_be_sent_from_this_site_once_and_not_by_a_bot(
    site: Pulse, client: TestClient
) -> None:
    token = step_token(snippet_post(client, PARTNER).text)
    form = {"embed_token": token, "email": "ana@example.com", "website": ""}
    # A token lifted into a page elsewhere, even with the Origin stripped, is refused.
    assert (
        client.post("/embed/subscribe", data=form, headers={"Origin": PARTNER}).status_code == 403
    )
    assert client.post("/embed/subscribe", data=form, headers={"Origin": "null"}).status_code == 403
    assert queued(site) == 0
    assert client.post("/embed/subscribe", data=form, headers={"Origin": OWN}).status_code == 200
    again = client.post("/embed/subscribe", data=form, headers={"Origin": OWN})
    assert again.status_code == 400 and "already sent" in again.text
    assert queued(site) == 1
    forged = client.post(
        "/embed/subscribe", data=form | {"embed_token": altered(token)}, headers={"Origin": OWN}
    )
    assert forged.status_code == 400 and queued(site) == 1
    # The honeypot: answered as for a person, nothing done.
    bot = client.post(
        "/embed/subscribe",
        data=form | {"embed_token": step_token(snippet_post(client, PARTNER).text), "website": "x"},
        headers={"Origin": OWN},
    )
    assert bot.status_code == 200 and "Check your inbox" in bot.text and queued(site) == 1


def test_a_step_sent_faster_than_people_type_is_asked_again(make_pulse: MakePulse) -> None:
    site = make_pulse(embed_origins=PARTNER, signup_min_fill_seconds=30)
    client = TestClient(create_app(site))
    token = step_token(snippet_post(client, PARTNER).text)
    response = client.post(
        "/embed/subscribe",
        data={"embed_token": token, "email": "ana@example.com"},
        headers={"Origin": OWN},
    )
    assert response.status_code == 400 and "That was quick" in response.text
    assert queued(site) == 0


def test_the_embed_shares_the_main_forms_rate_limit(make_pulse: MakePulse) -> None:
    site = make_pulse(embed_origins=PARTNER, signup_per_ip_per_hour=2)
    client = TestClient(create_app(site))
    statuses = []
    for n in range(3):
        token = step_token(snippet_post(client, PARTNER, email=f"r{n}@example.com").text)
        statuses.append(
            client.post(
                "/embed/subscribe",
                data={"embed_token": token, "email": f"r{n}@example.com"},
                headers={"Origin": OWN},
            ).status_code
        )
    assert statuses == [200, 200, 429]
    assert queued(site) == 2


def test_an_invalid_address_is_shown_again_with_the_error(client: TestClient, site: Pulse) -> None:
    token = step_token(snippet_post(client, PARTNER, email="not an address").text)
    response = client.post(
        "/embed/subscribe",
        data={"embed_token": token, "email": "not an address", "first_name": "<b>x</b>"},
        headers={"Origin": OWN},
    )
    assert response.status_code == 400 and 'aria-invalid="true"' in response.text
    assert "<b>x</b>" not in response.text and queued(site) == 0


def test_iframe_may_be_framed_by_the_listed_sites_only_and_the_site_by_none(
    client: TestClient,
) -> None:
    framed = client.get("/embed/form?ref=abcdefghijkl")
    assert framed.status_code == 200 and "embed_token" in framed.text
    assert 'name="ref" value="abcdefghijkl"' in framed.text
    csp = framed.headers["content-security-policy"]
    assert "frame-ancestors 'self' http://partner.example:8080 https://blog.example" in csp
    assert "x-frame-options" not in framed.headers
    assert framed.headers["referrer-policy"] == "same-origin"
    landing = client.get("/")
    assert "frame-ancestors 'none'" in landing.headers["content-security-policy"]
    assert landing.headers["x-frame-options"] == "DENY"


def test_embed_is_off_without_origins(make_pulse: MakePulse) -> None:
    client = TestClient(create_app(make_pulse()))
    assert client.get("/embed/form").status_code == 404
    assert snippet_post(client, PARTNER).status_code == 404


def test_origins_setting_is_strict(make_pulse: MakePulse) -> None:
    assert parse_origins("https://A.example, http://b.example:80,https://a.example:443") == (
        "https://a.example:443",
        "http://b.example:80",
    )
    for bad in (
        "partner.example",
        "https://a.example/path",
        "ftp://a.example",
        "https://*.a.example",
        "https://user@a.example",
        "https://a.example?x=1",
        "https://a.example:99999",
    ):
        with pytest.raises(ValueError):
            parse_origins(bad)
    with pytest.raises(ConfigError, match="PULSE_EMBED_ORIGINS"):
        load_settings(embed_origins="https://ok.example,not-an-origin")


@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=80)))
def test_origin_reading_never_raises(origin: str, referer: str | None) -> None:
    found = request_origin(origin or None, referer)
    assert found is None or normalise_origin(found) == found
    with contextlib.suppress(ValueError):
        assert all(normalise_origin(o) == o for o in parse_origins(origin))
