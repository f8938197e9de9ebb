"""hypothesis on applying an import: whatever we had and whatever the export says, nobody who
left (here or there) is ever put back on the list, and a dry run counts exactly what the real
run then does."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.departures import LEFT, Standing
from subscribers.importer import NewSubscriber, import_subscribers
from subscribers.leaving import LeaveReason, leave
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.service import add_subscriber
from subscribers.suppression import SuppressionReason, is_suppressed, suppress

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OURS = ("none", "active", "pending", "unsubscribed", "suppressed")
person = st.tuples(st.sampled_from(OURS), st.sampled_from(list(Standing)))


def _state(site: Pulse, emails: list[str]) -> dict[str, tuple[SubscriberStatus | None, bool]]:
    keys = site.subscribers.hash_keys
    with transaction(site.db.sessions) as session:
        rows = {
            s.email: s.status
            for s in session.scalars(select(Subscriber).where(Subscriber.email.in_(emails)))
        }
        return {e: (rows.get(e), is_suppressed(session, e, keys)) for e in emails}


@FUZZ
@given(people=st.lists(person, min_size=1, max_size=8), pending=st.booleans())
def test_nobody_who_left_is_put_back_and_the_dry_run_is_exact(
    site: Pulse, people: list[tuple[str, Standing]], pending: bool
) -> None:
    tag = uuid.uuid4().hex[:8]
    emails = [f"p{i}-{tag}@example.com" for i in range(len(people))]
    ctx = site.subscribers
    with transaction(site.db.sessions) as session:
        for email, (ours, _theirs) in zip(emails, people, strict=True):
            if ours == "suppressed":
                suppress(session, email, SuppressionReason.UNSUBSCRIBED, ctx.hash_keys[0])
            elif ours != "none":
                status = SubscriberStatus.PENDING if ours == "pending" else SubscriberStatus.ACTIVE
                row, _ = add_subscriber(
                    session, email, consent_text="t", consent_source="t", status=status
                )
                if ours == "unsubscribed":
                    leave(session, row, LeaveReason.UNSUBSCRIBED, cause="t", rules=ctx.leaving)
    before = _state(site, emails)
    rows = [
        (i + 2, NewSubscriber(email, None, standing=theirs))
        for i, (email, (_ours, theirs)) in enumerate(zip(emails, people, strict=True))
    ]
    status = SubscriberStatus.PENDING if pending else SubscriberStatus.ACTIVE

    def run(dry_run: bool) -> dict[str, object]:
        with transaction(site.db.sessions) as session:
            summary = import_subscribers(
                session, iter(rows), consent_text="c", consent_source="test", status=status,
                hash_keys=ctx.hash_keys, leaving=ctx.leaving, dry_run=dry_run, chunk_size=3,
            )  # fmt: skip
        return asdict(summary)

    dry = run(dry_run=True)
    assert _state(site, emails) == before
    assert run(dry_run=False) == dry
    after = _state(site, emails)
    for email, (ours, theirs) in zip(emails, people, strict=True):
        was_status, was_suppressed = before[email]
        now_status, now_suppressed = after[email]
        if was_suppressed:
            assert now_suppressed, email  # never un-suppressed
        if theirs in LEFT:
            assert now_suppressed and now_status not in (
                SubscriberStatus.ACTIVE,
                SubscriberStatus.PENDING,
            ), (ours, theirs)
        joins = theirs is Standing.SUBSCRIBED or (theirs is Standing.UNCONFIRMED and pending)
        if ours == "none" and joins:
            assert now_status is status
        elif ours == "none" or ours == "suppressed":
            assert now_status is None  # no row for anyone who did not join
        elif theirs not in LEFT:
            assert now_status is was_status  # an import changes nobody already here
