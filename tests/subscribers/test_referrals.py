"""Referrals: a personal link, credit on confirmation only, milestones once, erasure."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import QueuedMail, Referral, ReferralMilestone, Subscriber
from subscribers.privacy import erase
from subscribers.referrals import (
    Milestone,
    credited_count,
    leaderboard,
    parse_milestones,
    referral_totals,
)
from subscribers.signup import confirm
from subscribers.suppression import SuppressionReason, suppress
from tests.conftest import Workspace
from tests.subscribers.conftest import MakePulse, Outbox, form_token, subscriber

MILESTONES = "2=Sticker pack,3=Annual report PDF"


@pytest.fixture
def site(make_pulse: MakePulse) -> Pulse:
    return make_pulse(referral_milestones=MILESTONES)


@pytest.fixture
def client(site: Pulse) -> TestClient:
    return TestClient(create_app(site))


def active_reader(site: Pulse, address: str) -> Subscriber:
    from subscribers.signup import Consent, sign_up

    sign_up(site.subscribers, address, "Ref", Consent("ok", "test"))
    row = subscriber(site, address)
    assert row is not None
    confirm(site.subscribers, site.subscribers.signer.confirm_token(row.id))
    row = subscriber(site, address)
    assert row is not None
    return row


def refer(client: TestClient, code: str, address: str) -> None:
    """Open the referral link and sign up through its form, as a browser would."""
    page = client.get(f"/?ref={code}")
    assert f'name="ref" value="{code}"' in page.text
    response = client.post(
        "/subscribe",
        data={"form_token": form_token(client), "email": address, "ref": code, "website": ""},
    )
    assert response.status_code == 200


def confirm_by_mail(client: TestClient, outbox: Outbox, address: str) -> None:
    response = client.post(outbox.link(address, "confirm"))
    assert response.status_code == 200


def count_of(site: Pulse, subscriber_id: int) -> int:
    with transaction(site.db.sessions) as session:
        return credited_count(session, subscriber_id)


def milestone_mails(outbox: Outbox, address: str) -> list[str]:
    return [str(m["Subject"]) for m in outbox.to(address) if "readers to" in str(m["Subject"])]


def test_referral_credits_only_on_confirmation_and_sends_each_milestone_once(
    site: Pulse, client: TestClient, outbox: Outbox
) -> None:
    ana = active_reader(site, "ana@example.com")
    refer(client, ana.referral_code, "bo@example.com")
    assert count_of(site, ana.id) == 0  # signed up, not confirmed: nothing yet
    confirm_by_mail(client, outbox, "bo@example.com")
    assert count_of(site, ana.id) == 1
    # Confirming again, signing up again and resubmitting never credit twice.
    confirm_by_mail(client, outbox, "bo@example.com")
    refer(client, ana.referral_code, "BO@example.com")
    assert count_of(site, ana.id) == 1
    refer(client, ana.referral_code, "cy@example.com")
    confirm_by_mail(client, outbox, "cy@example.com")
    assert count_of(site, ana.id) == 2
    assert milestone_mails(outbox, "ana@example.com") == [
        "You brought 2 readers to AISE Pulse Brief"
    ]
    [message] = [m for m in outbox.to("ana@example.com") if "readers to" in str(m["Subject"])]
    text = Outbox.text(message)
    assert "Sticker pack" in text and f"/?ref={ana.referral_code}" in text
    refer(client, ana.referral_code, "di@example.com")
    confirm_by_mail(client, outbox, "di@example.com")
    assert len(milestone_mails(outbox, "ana@example.com")) == 2


def test_the_referrer_themself_a_bad_code_and_a_suppressed_address_earn_nothing(
    site: Pulse, client: TestClient, outbox: Outbox
) -> None:
    ana = active_reader(site, "ana@example.com")
    refer(client, "not-a-real-code-xx", "eve@example.com")
    confirm_by_mail(client, outbox, "eve@example.com")
    # Ana's own link, used by Ana (any case): she is already in, and never her own referee.
    refer(client, ana.referral_code, "ANA@example.com")
    # A suppressed address (the operator's list) confirming through the link: no credit.
    with transaction(site.db.sessions) as session:
        suppress(
            session, "fay@example.com", SuppressionReason.MANUAL, site.subscribers.hash_keys[0]
        )
    refer(client, ana.referral_code, "fay@example.com")
    confirm_by_mail(client, outbox, "fay@example.com")
    assert count_of(site, ana.id) == 0
    with transaction(site.db.sessions) as session:
        assert session.scalar(select(Referral.credited_at).limit(1)) is None


def test_a_reader_who_was_confirmed_before_is_not_new(
    site: Pulse, client: TestClient, outbox: Outbox
) -> None:
    ana = active_reader(site, "ana@example.com")
    gus = active_reader(site, "gus@example.com")
    client.post(f"/u/{site.subscribers.signer.unsubscribe_token(gus.id)}")
    refer(client, ana.referral_code, "gus@example.com")
    confirm_by_mail(client, outbox, "gus@example.com")
    assert count_of(site, ana.id) == 0


def test_erased_referrers_and_referees_count_for_nothing(
    site: Pulse, client: TestClient, outbox: Outbox
) -> None:
    ana = active_reader(site, "ana@example.com")
    for address in ("bo@example.com", "cy@example.com"):
        refer(client, ana.referral_code, address)
        confirm_by_mail(client, outbox, address)
    bo = subscriber(site, "bo@example.com")
    assert bo is not None
    refer(client, bo.referral_code, "hal@example.com")
    confirm_by_mail(client, outbox, "hal@example.com")
    with transaction(site.db.sessions) as session:
        assert [(r.email, r.referrals) for r in leaderboard(session)] == [
            ("ana@example.com", 2),
            ("bo@example.com", 1),
        ]
        erase(session, session.get(Subscriber, bo.id), site.subscribers.leaving)  # type: ignore[arg-type]
    assert count_of(site, ana.id) == 1
    with transaction(site.db.sessions) as session:
        assert [(r.email, r.referrals) for r in leaderboard(session)] == [("ana@example.com", 1)]
        totals = referral_totals(session)
        assert (totals.credited, totals.referrers) == (1, 1)
        # The erased reader's old link names nobody now.
        assert (
            session.scalar(
                select(Subscriber.id).where(Subscriber.referral_code == bo.referral_code)
            )
            is None
        )
        erase(session, session.get(Subscriber, ana.id), site.subscribers.leaving)  # type: ignore[arg-type]
        assert leaderboard(session) == []
        assert session.scalar(select(ReferralMilestone.id).limit(1)) is None


def test_referral_codes_are_random_and_unique(site: Pulse) -> None:
    readers = [active_reader(site, f"r{n}@example.com") for n in range(5)]
    codes = {reader.referral_code for reader in readers}
    assert len(codes) == 5
    for reader in readers:
        assert str(reader.id) != reader.referral_code and len(reader.referral_code) >= 12


def test_milestone_email_is_dropped_when_the_referrer_has_left(
    site: Pulse, client: TestClient, outbox: Outbox
) -> None:
    ana = active_reader(site, "ana@example.com")
    refer(client, ana.referral_code, "bo@example.com")
    client.post(f"/u/{site.subscribers.signer.unsubscribe_token(ana.id)}")
    refer(client, ana.referral_code, "cy@example.com")
    confirm_by_mail(client, outbox, "bo@example.com")
    confirm_by_mail(client, outbox, "cy@example.com")
    assert count_of(site, ana.id) == 2
    assert milestone_mails(outbox, "ana@example.com") == []
    with transaction(site.db.sessions) as session:
        row = session.scalar(select(QueuedMail).where(QueuedMail.kind == "milestone"))
        assert row is not None and row.failed_at is not None


def test_milestones_parse_strictly() -> None:
    assert parse_milestones(" 10=Annual report PDF , 3=Sticker pack") == (
        Milestone(3, "Sticker pack"),
        Milestone(10, "Annual report PDF"),
    )
    assert parse_milestones("") == ()
    for bad in ("3", "=x", "0=x", "-1=x", "3=", "3=a,3=b", "x=y", "3=a\nb", "1.5=x"):
        with pytest.raises(ValueError):
            parse_milestones(bad)


def test_a_bad_milestone_setting_is_a_config_error_naming_it(make_pulse: MakePulse) -> None:
    with pytest.raises(ConfigError, match="PULSE_REFERRAL_MILESTONES"):
        load_settings(referral_milestones="3=ok,ten=bad")


@given(st.text(max_size=60))
def test_milestone_parsing_never_raises_anything_but_value_error(text: str) -> None:
    try:
        milestones = parse_milestones(text)
    except ValueError:
        return
    assert [m.threshold for m in milestones] == sorted({m.threshold for m in milestones})


def test_every_issue_carries_its_readers_own_referral_link(
    pulse: Pulse, workspace: Workspace
) -> None:
    from pipeline.workflow import weekly
    from tests.harness.seed import WEEK, build_seeded_week

    build_seeded_week(pulse, readers=4)
    weekly.send_week(pulse, WEEK)
    with transaction(pulse.db.sessions) as session:
        codes = {s.email.lower(): s.referral_code for s in session.scalars(select(Subscriber))}
    messages = Outbox(workspace.outbox / WEEK).messages()
    assert len(messages) == 4
    for message in messages:
        code = codes[str(message["To"]).split("<")[-1].rstrip(">").lower()]
        html = message.get_body(preferencelist=("html",))
        assert html is not None and f"/?ref={code}" in str(html.get_content())
        assert f"/?ref={code}" in Outbox.text(message)
        others = set(codes.values()) - {code}
        assert not any(f"ref={other}" in message.as_string() for other in others)


def test_preferences_show_the_referral_link_and_count(
    site: Pulse, client: TestClient, outbox: Outbox
) -> None:
    ana = active_reader(site, "ana@example.com")
    refer(client, ana.referral_code, "bo@example.com")
    confirm_by_mail(client, outbox, "bo@example.com")
    page = client.get(f"/preferences/{site.subscribers.signer.preferences_token(ana.id)}")
    assert page.status_code == 200
    assert f"/?ref={ana.referral_code}" in page.text
    assert '<strong id="referral-count">1</strong>' in page.text


def test_migration_0026_gives_existing_subscribers_distinct_codes(pulse: Pulse) -> None:
    from sqlalchemy import text

    from pipeline.db import downgrade, upgrade

    engine = pulse.db.engine
    downgrade(engine, "0024")
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO subscribers (email, email_key, status, created_at, updated_at, "
                    "track_clicks) VALUES (:e, :e, 'active', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP, true)"
                ),
                {"e": f"old{n}@example.com"},
            )
    upgrade(engine)
    with transaction(pulse.db.sessions) as session:
        codes = [s.referral_code for s in session.scalars(select(Subscriber))]
    assert len(codes) == 3 and all(codes) and len(set(codes)) == 3


@pytest.mark.parametrize(
    "ref",
    ['"><script>alert(1)</script>', "abc def ghi jk", "a" * 500, "=?utf-8?b?QUJD?=", "x\r\ny"],
)
def test_a_malformed_referral_code_is_dropped_never_reflected(client: TestClient, ref: str) -> None:
    page = client.get("/", params={"ref": ref})
    assert page.status_code == 200
    assert 'name="ref"' not in page.text and "<script>alert" not in page.text


@given(st.text(max_size=40))
def test_referral_codes_are_accepted_only_in_their_own_alphabet(text: str) -> None:
    from subscribers.referrals import clean_referral_code

    cleaned = clean_referral_code(text)
    assert cleaned is None or (cleaned == text.strip() and cleaned.isascii() and "<" not in cleaned)
