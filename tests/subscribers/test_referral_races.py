"""Racing confirmations: the referral count and the milestone emails stay exact.

Each thread confirms one referred reader through its own database connection, all released
together by a barrier, so on PostgreSQL the credits of one referrer really run at once
(READ COMMITTED: without the referrer's row lock two credits could each miss the other and
a milestone would be skipped, or be queued twice without the unique row).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import QueuedMail, ReferralMilestone, Subscriber
from subscribers.referrals import credited_count
from subscribers.signup import Consent, confirm, drain_signup_mail, request_signup, sign_up
from tests.subscribers.conftest import MakePulse, Outbox, subscriber

REFERRED = 12
MILESTONES = "3=Sticker pack,5=Mug,8=Hoodie,12=Annual report PDF,13=Never reached"


def _pending_referred(site: Pulse, code: str, count: int) -> list[str]:
    ctx = site.subscribers
    addresses = [f"friend{n}@example.com" for n in range(count)]
    for address in addresses:
        request_signup(ctx, address, None, Consent("ok", "test"), referral_code=code)
    drain_signup_mail(ctx)
    tokens = []
    for address in addresses:
        row = subscriber(site, address)
        assert row is not None
        tokens.append(ctx.signer.confirm_token(row.id))
    return tokens


def _race(site: Pulse, tokens: list[str]) -> None:
    start = threading.Barrier(len(tokens))

    def confirm_one(token: str) -> str:
        start.wait(timeout=60)
        return confirm(site.subscribers, token).value

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        outcomes = list(pool.map(confirm_one, tokens))
    assert set(outcomes) <= {"confirmed", "already-active"}


def test_racing_confirmations_credit_each_once_and_mail_each_milestone_once(
    make_pulse: MakePulse, outbox: Outbox
) -> None:
    site = make_pulse(referral_milestones=MILESTONES)
    ctx = site.subscribers
    sign_up(ctx, "ana@example.com", "Ana", Consent("ok", "test"))
    ana = subscriber(site, "ana@example.com")
    assert ana is not None
    confirm(ctx, ctx.signer.confirm_token(ana.id))
    tokens = _pending_referred(site, ana.referral_code, REFERRED)
    # Every reader's link pressed twice at once as well: confirming twice credits once.
    _race(site, tokens + tokens)
    with transaction(site.db.sessions) as session:
        assert credited_count(session, ana.id) == REFERRED
        reached = list(
            session.scalars(
                select(ReferralMilestone.threshold)
                .where(ReferralMilestone.referrer_id == ana.id)
                .order_by(ReferralMilestone.threshold)
            )
        )
        assert reached == [3, 5, 8, 12]
        queued = session.scalar(
            select(func.count()).select_from(QueuedMail).where(QueuedMail.kind == "milestone")
        )
        assert queued == 4
        active = session.scalar(
            select(func.count()).select_from(Subscriber).where(Subscriber.status == "active")
        )
        assert active == REFERRED + 1
    drain_signup_mail(ctx)
    subjects = sorted(
        str(m["Subject"]) for m in outbox.to("ana@example.com") if "readers to" in str(m["Subject"])
    )
    assert subjects == sorted(f"You brought {n} readers to AISE Pulse Brief" for n in (3, 5, 8, 12))
