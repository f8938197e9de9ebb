"""One contract suite, run against every API adapter through the engine.

Each case sets its local provider server to give one of the provider's documented answers
(see ``tests/fakes/providers.py`` for the sources) and checks what the send makes of it:
who is recorded sent, failed or left to send, whether the send pauses, and how many copies
each reader can have received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.providers.base import Provider
from pipeline.issues.models import Issue, IssueStatus
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from subscribers.models import Subscriber
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.fakes import FakeProvider, FakeResend, Fault

READERS = 24
BATCH = 8


def start(fake: FakeProvider, configure: Callable[..., Pulse], **env: str) -> Pulse:
    pulse = configure(**{**provider_env(fake), "PULSE_BATCH_SIZE": str(BATCH), **env})
    seed_and_build(pulse, READERS)
    return pulse


def emails(pulse: Pulse) -> list[str]:
    with transaction(pulse.db.sessions) as session:
        return list(session.scalars(select(Subscriber.email).order_by(Subscriber.id)))


def statuses(pulse: Pulse) -> dict[str, DeliveryStatus]:
    with transaction(pulse.db.sessions) as session:
        rows = session.execute(
            select(Subscriber.email, Delivery.status).join(
                Delivery, Delivery.subscriber_id == Subscriber.id
            )
        ).all()
    return {email: status for email, status in rows}


def last_error(pulse: Pulse, email: str) -> str:
    with transaction(pulse.db.sessions) as session:
        error = session.scalar(
            select(Delivery.last_error)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.email == email)
        )
    return error or ""


def issue_status(pulse: Pulse) -> IssueStatus:
    with transaction(pulse.db.sessions) as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None
        return issue.status


@pytest.fixture
def small_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Provider], None]]:
    """Shrink an adapter class's documented size limit so one batch needs several calls."""

    def shrink(provider: Provider, limit: int = 40_000) -> None:
        monkeypatch.setattr(
            type(provider), "capabilities", replace(provider.capabilities, max_bytes=limit)
        )

    yield shrink


def test_accepted_everyone_once(fake: FakeProvider, configure: Callable[..., Pulse]) -> None:
    pulse = start(fake, configure)
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and report.sent == READERS
    assert fake.errors == [] and set(fake.accepted.values()) == {1}


def test_delayed_accepted_counts_as_sent_and_is_never_repeated(
    fake: FakeProvider, configure: Callable[..., Pulse]
) -> None:
    pulse = start(fake, configure)
    fake.delayed_addresses.update(e.lower() for e in emails(pulse)[:5])
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and report.sent == READERS
    assert set(fake.accepted.values()) == {1} and len(fake.accepted) == READERS


@pytest.mark.parametrize("victims", [1, 3], ids=["one-bad-address", "three-bad-addresses"])
def test_bad_addresses_fail_alone_and_the_rest_is_sent(
    fake: FakeProvider, configure: Callable[..., Pulse], victims: int
) -> None:
    pulse = start(fake, configure)
    everyone = emails(pulse)
    bad = {everyone[1], everyone[10], everyone[19]} if victims == 3 else {everyone[10]}
    fake.bad_addresses.update(e.lower() for e in bad)
    report = weekly.send_week(pulse, WEEK)
    assert report.finished, report.paused_reason
    assert report.outcome == {"sent": READERS - victims, "failed": victims}
    found = statuses(pulse)
    assert {e for e, s in found.items() if s is DeliveryStatus.FAILED} == bad
    assert all(last_error(pulse, e) for e in bad)  # the provider's reason is kept
    assert set(fake.accepted.values()) == {1} and len(fake.accepted) == READERS - victims


def test_account_refusal_pauses_and_fails_nobody(
    fake: FakeProvider, configure: Callable[..., Pulse]
) -> None:
    pulse = start(fake, configure)
    fake.account_refusal = True
    report = weekly.send_week(pulse, WEEK)
    assert not report.finished and report.paused_reason
    assert issue_status(pulse) is IssueStatus.PAUSED
    assert DeliveryStatus.FAILED not in set(statuses(pulse).values())
    assert fake.accepted.total() == 0
    fake.account_refusal = False
    report = weekly.send_week(pulse, WEEK, resume=True)
    assert report.finished and set(fake.accepted.values()) == {1}
    assert len(fake.accepted) == READERS


@pytest.mark.parametrize("fault", ["status-500", "quota"])
def test_partial_acceptance_is_recorded_and_never_sent_again(
    fake: FakeProvider,
    configure: Callable[..., Pulse],
    small_requests: Callable[[Provider], None],
    fault: str,
) -> None:
    pulse = start(fake, configure)
    if fault == "quota":
        if fake.name not in ("postmark", "ses"):
            pytest.skip("only Postmark and SES answer per message within one call")
        fake.quota = 11  # the 12th message hits the account's quota, mid-batch
        report = weekly.send_week(pulse, WEEK)
        assert not report.finished and report.paused_reason
        assert report.outcome["sent"] == 11
        assert DeliveryStatus.FAILED not in set(statuses(pulse).values())
        fake.quota = None
    else:
        # One batch goes out as several calls; a later call fails after earlier ones took.
        small_requests(pulse.provider())
        fake.faults.extend([Fault("pass"), Fault("status", 500), Fault("status", 500)])
        weekly.send_week(pulse, WEEK)
    weekly.send_week(pulse, WEEK, resume=True)
    assert set(fake.accepted.values()) == {1} and len(fake.accepted) == READERS
    assert set(statuses(pulse).values()) == {DeliveryStatus.SENT}


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "0"},
        {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"X-RateLimit-Reset": "1000000000000"},  # epoch milliseconds, long past
    ],
    ids=["seconds", "http-date", "epoch-ms"],
)
def test_429_with_a_hint_is_retried(
    fake: FakeProvider, configure: Callable[..., Pulse], headers: dict[str, str]
) -> None:
    pulse = start(fake, configure)
    fake.faults.append(Fault("status", 429, headers))
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and set(fake.accepted.values()) == {1}


def test_5xx_is_retried(fake: FakeProvider, configure: Callable[..., Pulse]) -> None:
    pulse = start(fake, configure)
    fake.faults.extend([Fault("status", 503), Fault("status", 502)])
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and set(fake.accepted.values()) == {1}


def test_timeout_after_acceptance_repeats_at_most_that_batch(
    fake: FakeProvider, configure: Callable[..., Pulse]
) -> None:
    pulse = start(fake, configure, PULSE_HTTP_TIMEOUT="1.0")
    fake.faults.append(Fault("accept_then_stall", delay=2.0))
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and len(fake.accepted) == READERS
    twice = [email for email, count in fake.accepted.items() if count > 1]
    if isinstance(fake, FakeResend):
        assert twice == []  # the idempotency key answered the repeat
    else:
        assert len(twice) <= BATCH and max(fake.accepted.values()) <= 2


def test_wrong_endpoint_pauses_and_nobody_counts_as_sent(
    fake: FakeProvider, configure: Callable[..., Pulse]
) -> None:
    variable = next(k for k in provider_env(fake) if k.endswith("_API_URL"))
    pulse = start(fake, configure, **{variable: fake.url + "/not-the-api"})
    report = weekly.send_week(pulse, WEEK)
    assert not report.finished and report.sent == 0 and report.paused_reason
    assert DeliveryStatus.SENT not in set(statuses(pulse).values())
    assert fake.accepted.total() == 0


def test_oversized_batch_is_split_into_calls_within_the_limit(
    fake: FakeProvider, configure: Callable[..., Pulse], small_requests: Callable[..., None]
) -> None:
    pulse = start(fake, configure)
    provider = pulse.provider()
    if not provider.capabilities.max_bytes or fake.name == "ses":
        pytest.skip("SES bodies travel once per call; its limit is checked before sending")
    small_requests(provider, 40_000)
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and set(fake.accepted.values()) == {1}
    assert all(call.size <= 40_000 for call in fake.calls)
    if fake.name in ("postmark", "resend"):  # one rendered body per message: many calls
        assert len(fake.calls) > READERS // BATCH


def test_idn_domain_goes_out_in_punycode(
    fake: FakeProvider, configure: Callable[..., Pulse]
) -> None:
    pulse = start(fake, configure)
    with transaction(pulse.db.sessions) as session:
        first = session.scalars(select(Subscriber.id).order_by(Subscriber.id)).first()
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == first)
            .values(email="leser@bücher.example", first_name="Zoë")
        )
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and report.sent == READERS, report.paused_reason
    assert fake.errors == []
    assert fake.accepted["leser@xn--bcher-kva.example"] == 1


def test_a_request_refused_whatever_it_holds_pauses_and_fails_nobody(
    fake: FakeProvider, configure: Callable[..., Pulse]
) -> None:
    if fake.name not in ("sendgrid", "mailgun"):
        pytest.skip("only SendGrid and Mailgun refuse a whole call for an address")
    pulse = start(fake, configure)
    fake.bad_addresses.update(e.lower() for e in emails(pulse))  # "bad" whatever is sent
    report = weekly.send_week(pulse, WEEK)
    assert not report.finished and report.paused_reason
    assert "too many addresses" in report.paused_reason
    assert DeliveryStatus.FAILED not in set(statuses(pulse).values())


@pytest.mark.parametrize("name", ["Ann, B", "Smith; Jo", 'Zoë "Z" <x>'])
def test_display_names_with_separators_still_get_the_issue(
    fake: FakeProvider, configure: Callable[..., Pulse], name: str
) -> None:
    # SendGrid drops a recipient whose name holds "," or ";" after answering 202
    # (sendgrid-python#291); the fake does the same, so only a stripped name arrives.
    pulse = start(fake, configure)
    with transaction(pulse.db.sessions) as session:
        first = session.scalars(select(Subscriber).order_by(Subscriber.id)).first()
        assert first is not None
        first.first_name = name
        email = first.email.lower()
    report = weekly.send_week(pulse, WEEK)
    assert report.finished and fake.accepted[email] == 1 and fake.errors == []
