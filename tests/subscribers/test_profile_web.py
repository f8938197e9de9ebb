"""A reader's profile through the web: the signup form, the queue, the preferences page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import QueuedMail
from subscribers.service import add_subscriber
from tests.subscribers.conftest import (
    MakePulse,
    all_subscribers,
    mail_queue_is_empty,
    sign_up,
    subscriber,
)

PROFILE = {"role": "ai-se", "level": "senior", "region": "GB", "timezone": "Europe/London"}


def profile_of(pulse: Pulse, address: str) -> tuple[str | None, ...]:
    person = subscriber(pulse, address)
    assert person is not None
    return (person.role, person.level, person.region, person.timezone)


def test_the_form_offers_the_four_optional_selects(client: TestClient) -> None:
    html = client.get("/").text
    for name in PROFILE:
        assert f'<select id="{name}" name="{name}"' in html
    assert '<option value="staff">Staff / Principal</option>' in html
    assert '<option value="Asia/Kolkata">' in html
    assert '<script src="/assets/timezone.js" defer></script>' in html
    script = client.get("/assets/timezone.js")
    assert script.status_code == 200 and "resolvedOptions().timeZone" in script.text
    assert script.headers["content-type"].startswith("text/javascript")


def test_without_script_the_time_zone_starts_from_the_browser_language(
    client: TestClient,
) -> None:
    british = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert '<option value="Europe/London" selected>' in british
    assert 'data-chosen="no"' in british  # a guess: the script may still replace it
    american = client.get("/", headers={"Accept-Language": "en-US,en;q=0.8"}).text
    assert " selected>" not in american.split('id="timezone"')[1].split("</select>")[0]
    assert "The list's time zone (" in american


def test_a_signup_carries_its_profile_through_the_queue(client: TestClient, site: Pulse) -> None:
    response = sign_up(client, "ana@example.com", "Ana", **PROFILE)
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert mail_queue_is_empty(site, drain=True)
    assert profile_of(site, "ana@example.com") == ("ai-se", "senior", "GB", "Europe/London")
    with transaction(site.db.sessions) as session:
        # Recorded: the queued row keeps none of it.
        rows = session.query(QueuedMail).filter(QueuedMail.kind == "signup").all()
        assert rows and all(r.role is r.region is r.timezone is r.email is None for r in rows)


def test_a_signup_without_a_profile_stores_nothing(client: TestClient, site: Pulse) -> None:
    sign_up(client, "bo@example.com")
    mail_queue_is_empty(site, drain=True)
    assert profile_of(site, "bo@example.com") == (None, None, None, None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("role", "ceo"),
        ("level", "junior"),
        ("region", "ZZ"),
        ("region", "GB\r\nBcc: eve@example.com"),
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "=?utf-8?q?Europe/London?="),
        ("timezone", "Europe/Lon\r\ndon"),
        ("timezone", "Europe/" + "x" * 5000),
        ("level", "<script>alert(1)</script>"),
    ],
)
def test_a_value_off_the_list_is_refused_by_name_and_nothing_is_queued(
    client: TestClient, site: Pulse, name: str, value: str
) -> None:
    response = sign_up(client, "cy@example.com", "Cy", **{**PROFILE, name: value})
    assert response.status_code == 400
    assert f'id="{name}-error"' in response.text
    assert "<script>alert" not in response.text
    assert mail_queue_is_empty(site) and all_subscribers(site) == []


def test_a_stranger_cannot_change_a_known_readers_profile(client: TestClient, site: Pulse) -> None:
    with transaction(site.db.sessions) as session:
        person, _ = add_subscriber(session, "dee@example.com", consent_text="t", consent_source="t")
        person.level, person.region = "staff", "US"
    sign_up(client, "dee@example.com", **PROFILE)
    mail_queue_is_empty(site, drain=True)
    assert profile_of(site, "dee@example.com") == (None, "staff", "US", None)


def test_a_pending_signup_again_only_fills_what_was_left_blank(
    client: TestClient, site: Pulse, make_pulse: MakePulse
) -> None:
    sign_up(client, "eve@example.com", level="mid")
    mail_queue_is_empty(site, drain=True)
    second = TestClient(create_app(site))
    sign_up(second, "eve@example.com", **PROFILE)
    mail_queue_is_empty(site, drain=True)
    assert profile_of(site, "eve@example.com") == ("ai-se", "mid", "GB", "Europe/London")


PROFILE_VALUE = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", " ", "\x00", "ai-se", "GB", "Europe/London", "UTC", "x" * 3000]),
    st.sampled_from(["=?utf-8?b?QUkgU0U=?=", "a\r\nb", "../../etc", "<b>x</b>"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.fixed_dictionaries({name: PROFILE_VALUE for name in PROFILE}))
def test_any_profile_input_is_a_listed_value_or_a_field_named_400(
    make_pulse: MakePulse, raw: dict[str, str]
) -> None:
    pulse = make_pulse(signup_per_ip_per_hour=100_000, signup_per_address_per_hour=100_000)
    client = TestClient(create_app(pulse))
    response = sign_up(client, "fuzz@example.com", **raw)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert any(f'id="{name}-error"' in response.text for name in PROFILE)
        assert mail_queue_is_empty(pulse)


def active_reader(pulse: Pulse, address: str = "fay@example.com") -> int:
    with transaction(pulse.db.sessions) as session:
        person, _ = add_subscriber(session, address, consent_text="t", consent_source="t")
        return person.id


def test_the_preferences_page_edits_the_profile(client: TestClient, site: Pulse) -> None:
    url = f"/preferences/{site.signer.preferences_token(active_reader(site))}"
    page = client.get(url)
    assert page.status_code == 200 and 'value="profile"' in page.text
    saved = client.post(url, data={"action": "profile", **PROFILE})
    assert saved.status_code == 200 and "Saved" in saved.text
    assert '<option value="senior" selected>' in saved.text
    assert profile_of(site, "fay@example.com") == ("ai-se", "senior", "GB", "Europe/London")
    cleared = client.post(url, data={"action": "profile", "level": "staff"})
    assert cleared.status_code == 200
    assert profile_of(site, "fay@example.com") == (None, "staff", None, None)


@pytest.mark.parametrize(
    ("name", "value"),
    [("region", "GB\r\nX: y"), ("timezone", "=?utf-8?q?UTC?="), ("role", "x" * 3000)],
)
def test_a_bad_preferences_value_changes_nothing_and_names_its_field(
    client: TestClient, site: Pulse, name: str, value: str
) -> None:
    url = f"/preferences/{site.signer.preferences_token(active_reader(site))}"
    client.post(url, data={"action": "profile", **PROFILE})
    refused = client.post(
        url, data={"action": "profile", **{**PROFILE, "level": "mid", name: value}}
    )
    assert refused.status_code == 400 and f'id="{name}-error"' in refused.text
    assert profile_of(site, "fay@example.com") == ("ai-se", "senior", "GB", "Europe/London")


def test_the_data_download_carries_the_profile_and_erasure_removes_it(
    client: TestClient, site: Pulse
) -> None:
    reader = active_reader(site)
    token = site.signer.manage_token(reader)
    client.post(f"/preferences/{token}", data={"action": "profile", **PROFILE})
    record = client.get(f"/preferences/{token}/data.json").json()
    assert record["profile"] == PROFILE
    client.post(f"/preferences/{token}", data={"action": "delete", "confirm": "yes"})
    [person] = all_subscribers(site)
    assert person.erased and (person.role, person.level, person.region, person.timezone) == (
        None,
        None,
        None,
        None,
    )
