"""hypothesis: every form field and token route answers without a 5xx and escapes input."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from tests.conftest import Workspace
from tests.subscribers.conftest import MakePulse, form_token

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MARKUP = "<script>x</script>\"'&"
text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60).map(lambda s: s + MARKUP),
    st.sampled_from(["", " ", "\x00", "a@b", "a@example.com", "é@ëxample.com", "x" * 5000]),
    st.from_regex(r"[a-z<>\"'&%\x00]{1,20}@example\.com", fullmatch=True),
)
token = st.one_of(
    text.map(lambda s: s[:300] or "x"),
    st.text(
        alphabet=st.characters(blacklist_characters="/?#", codec="utf-8"), min_size=1, max_size=300
    ),
    st.from_regex(r"[A-Za-z0-9._-]{1,200}", fullmatch=True),
)


@pytest.fixture
def fuzz_site(make_pulse: MakePulse, workspace: Workspace) -> Iterator[tuple[TestClient, Pulse]]:
    pulse = make_pulse(signup_per_ip_per_hour=100_000, signup_per_address_per_hour=100_000)
    yield TestClient(create_app(pulse)), pulse


# The one script a page carries: the signup form's time zone helper, from this origin.
OWN_SCRIPT = '<script src="/assets/timezone.js" defer></script>'


def assert_safe(response_text: str, status: int) -> None:
    """No 5xx; and since no page has another script, a script tag can only be echoed input."""
    assert status < 500
    page = response_text.replace(OWN_SCRIPT, "", 1)
    assert "<script" not in page.lower(), "user input echoed unescaped"


@FUZZ
@given(email=text, first_name=text, website=st.sampled_from(["", "x"]), extra=text)
def test_signup_form_fields_never_5xx_or_echo_markup(
    fuzz_site: tuple[TestClient, Pulse], email: str, first_name: str, website: str, extra: str
) -> None:
    client, _pulse = fuzz_site
    data = {
        "form_token": form_token(client),
        "email": email,
        "first_name": first_name,
        "website": website,
        "unexpected": extra,
        "role": extra,
        "timezone": first_name,
    }
    response = client.post("/subscribe", data=data)
    assert_safe(response.text, response.status_code)


@FUZZ
@given(raw=token, body=text)
def test_token_routes_never_5xx_or_echo_markup(
    fuzz_site: tuple[TestClient, Pulse], raw: str, body: str
) -> None:
    client, _pulse = fuzz_site
    for method, path in (
        ("GET", "/confirm/{}"),
        ("POST", "/confirm/{}"),
        ("POST", "/confirm/{}/renew"),
        ("GET", "/u/{}"),
        ("POST", "/u/{}"),
        ("GET", "/preferences/{}"),
        ("POST", "/preferences/{}"),
        ("GET", "/preferences/{}/data.json"),
    ):
        response = client.request(
            method,
            path.format(quote(raw, safe="")),
            data={"List-Unsubscribe": body, "action": body},
        )
        assert_safe(response.text, response.status_code)


@FUZZ
@given(
    action=st.sampled_from(
        ["name", "pause", "resume", "unsubscribe", "resubscribe", "delete", "profile", "x"]
    ),
    value=text,
)
def test_preferences_form_fields_never_5xx_or_echo_markup(
    fuzz_site: tuple[TestClient, Pulse], action: str, value: str
) -> None:
    client, pulse = fuzz_site
    from pulse_core.database import transaction
    from subscribers.service import add_subscriber

    with transaction(pulse.db.sessions) as session:
        subscriber, _ = add_subscriber(
            session, "fuzz@example.com", consent_text="fuzzing", consent_source="test"
        )
        subscriber_id = subscriber.id
    url = f"/preferences/{pulse.signer.preferences_token(subscriber_id)}"
    response = client.post(
        url,
        data={
            "action": action,
            "first_name": value,
            "weeks": value,
            "confirm": value,
            "region": value,
            "timezone": value,
        },
    )
    assert_safe(response.text, response.status_code)
    page = client.get(url)
    assert_safe(page.text, page.status_code)
    one_click = client.post(
        f"/u/{pulse.signer.unsubscribe_token(subscriber_id)}",
        data={"List-Unsubscribe": value, "source": value},
    )
    assert_safe(one_click.text, one_click.status_code)
    assert one_click.status_code == 200
