"""The desk's growth page: referral leaderboard and totals, the embed snippets (escaped)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from markupsafe import escape

from pipeline.config import load_settings
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import Referral, Subscriber
from subscribers.service import add_subscriber
from subscribers.signup import Consent, confirm, drain_signup_mail, request_signup
from tests.admin.conftest import Desk
from tests.conftest import Workspace


@pytest.fixture
def pulse(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pulse]:
    monkeypatch.setenv("PULSE_EMBED_ORIGINS", "https://partner.example")
    monkeypatch.setenv("PULSE_REFERRAL_MILESTONES", "2=Sticker pack")
    built = Pulse(load_settings())
    yield built
    built.close()


def _referrer_with(pulse: Pulse, address: str, confirmed: int, pending: int = 0) -> int:
    ctx = pulse.subscribers
    with transaction(pulse.db.sessions) as session:
        person, _ = add_subscriber(session, address, consent_text="booth", consent_source="import")
        code, referrer_id = person.referral_code, person.id
    for n in range(confirmed + pending):
        request_signup(ctx, f"{n}.{address}", None, Consent("ok", "t"), referral_code=code)
    drain_signup_mail(ctx)
    with transaction(pulse.db.sessions) as session:
        referred = [
            r.referred_id
            for r in session.query(Referral).filter(Referral.referrer_id == referrer_id)
        ]
    for subscriber_id in sorted(referred)[:confirmed]:
        confirm(ctx, ctx.signer.confirm_token(subscriber_id))
    return referrer_id


def test_growth_page_shows_the_leaderboard_totals_and_escaped_snippets(desk: Desk) -> None:
    _referrer_with(desk.pulse, "ana@example.com", confirmed=3, pending=1)
    _referrer_with(desk.pulse, "bo@example.com", confirmed=1)
    page = desk.editor().get("/admin/growth")
    assert page.status_code == 200
    text = page.text
    assert text.index("ana@example.com") < text.index("bo@example.com")
    assert '<td data-total="credited">4</td>' in text
    assert '<td data-total="awaiting">1</td>' in text
    assert '<td data-total="referrers">2</td>' in text
    assert '<td data-total="milestones">1</td>' in text
    assert "2 = Sticker pack" in text and "https://partner.example" in text
    # The snippet is shown as text to copy, never as a live form on the desk.
    assert str(escape('<form method="post" action="http://127.0.0.1:8000/embed/subscribe"')) in text
    assert '<form method="post" action="http://127.0.0.1:8000/embed/subscribe"' not in text
    assert str(escape('<iframe src="http://127.0.0.1:8000/embed/form"')) in text


def test_growth_page_is_behind_login(desk: Desk) -> None:
    response = desk.client().get("/admin/growth", follow_redirects=False)
    assert response.status_code in (302, 303, 401)
    with transaction(desk.pulse.db.sessions) as session:
        assert session.query(Subscriber).count() == 0
