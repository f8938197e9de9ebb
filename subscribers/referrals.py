"""Referrals: a personal link per reader, credit on confirmation, milestones once each.

Each subscriber carries a random ``referral_code`` (72 bits, not the id, so nobody can
guess or derive another reader's). A signup through ``/?ref=CODE`` carries the code on its
queued row; recording the signup notes a :class:`Referral` for a reader who has never
confirmed, and confirming credits it. The credit rule lives here once:

* only on confirmation, and only if the address is not suppressed;
* the referred reader is a distinct address (one row per ``email_key``) and not the referrer;
* one :class:`Referral` per referred subscriber ever (a unique column), credited once, so
  re-confirming, signing up again or resubmitting the form never credits twice;
* erased readers count for nothing: erasure deletes their referrals both ways (and gives
  them a fresh code, so the old link names nobody).

Milestones (``PULSE_REFERRAL_MILESTONES``) are checked in the credit's transaction, with
the referrer's row locked, so two racing confirmations see each other's credit; a
:class:`ReferralMilestone` row per (referrer, threshold), inserted with ON CONFLICT DO
NOTHING, is what lets its email be queued exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from pulse_core.database import insert_skipping_existing, utcnow
from subscribers.models import (
    ERASED_KEY_PREFIX,
    Referral,
    ReferralMilestone,
    Subscriber,
    new_referral_code,
)

# What a referral code looks like (token_urlsafe); anything else is ignored unread.
_CODE = re.compile(r"[A-Za-z0-9_-]{8,24}")
MAX_REWARD = 200
MAX_MILESTONES = 20


@dataclass(frozen=True)
class Milestone:
    """At ``threshold`` credited referrals the referrer is told they earned ``reward``."""

    threshold: int
    reward: str


def parse_milestones(text: str) -> tuple[Milestone, ...]:
    """``3=Sticker pack,10=Annual report PDF`` → milestones by threshold; strict.

    Raises ``ValueError`` naming the bad entry (the settings turn it into a ConfigError).
    """
    milestones: dict[int, Milestone] = {}
    entries = [entry.strip() for entry in text.split(",")] if text.strip() else []
    if len(entries) > MAX_MILESTONES:
        raise ValueError(f"at most {MAX_MILESTONES} milestones")
    for entry in entries:
        threshold, sep, reward = entry.partition("=")
        threshold, reward = threshold.strip(), reward.strip()
        if not sep or not re.fullmatch(r"[0-9]{1,6}", threshold) or int(threshold) < 1:
            raise ValueError(f"{entry!r} is not COUNT=REWARD with a whole COUNT of 1 or more")
        if not reward or len(reward) > MAX_REWARD or not reward.isprintable():
            raise ValueError(f"{entry!r} needs a reward of 1 to {MAX_REWARD} printable characters")
        if int(threshold) in milestones:
            raise ValueError(f"{entry!r} repeats the count {int(threshold)}")
        milestones[int(threshold)] = Milestone(int(threshold), reward)
    return tuple(milestones[key] for key in sorted(milestones))


def clean_referral_code(value: str | None) -> str | None:
    """The code if it is shaped like one, else None (a bad code is ignored, never an error)."""
    text = (value or "").strip()
    return text if _CODE.fullmatch(text) else None


def note_referral(session: Session, subscriber: Subscriber, code: str | None) -> None:
    """Remember who referred ``subscriber`` (recording a signup; credited on confirmation).

    Only a reader who never confirmed is new; the first referral link noted wins. The
    caller holds the subscriber's row lock, so this check-then-insert does not race.
    """
    if code is None or subscriber.confirmed_at is not None or subscriber.erased:
        return
    referrer_id = session.scalar(select(Subscriber.id).where(Subscriber.referral_code == code))
    if referrer_id is None or referrer_id == subscriber.id:
        return
    if session.scalar(select(Referral.id).where(Referral.referred_id == subscriber.id)):
        return
    session.add(Referral(referrer_id=referrer_id, referred_id=subscriber.id, created_at=utcnow()))
    session.flush()


@dataclass(frozen=True)
class Credit:
    """A referral credited now, and the milestones its referrer newly reached."""

    referrer_id: int
    milestone_ids: tuple[int, ...]


def credit_referral(
    session: Session,
    subscriber: Subscriber,
    milestones: Sequence[Milestone],
    *,
    suppressed: bool,
) -> Credit | None:
    """Credit the referrer of a reader confirming now; None when nobody is credited.

    Runs in the confirmation's transaction. The referrer's row is locked first, so
    concurrent credits of one referrer take turns and each counts the ones before it.
    """
    referral = session.scalar(
        select(Referral).where(
            Referral.referred_id == subscriber.id, Referral.credited_at.is_(None)
        )
    )
    if referral is None or suppressed or referral.referrer_id == subscriber.id:
        return None
    referrer = session.get(Subscriber, referral.referrer_id, with_for_update=True)
    if referrer is None or referrer.erased:
        return None
    referral.credited_at = utcnow()
    session.flush()
    count = credited_count(session, referrer.id)
    reached = (_reach(session, referrer.id, m) for m in milestones if m.threshold <= count)
    return Credit(referrer.id, tuple(mid for mid in reached if mid is not None))


def _reach(session: Session, referrer_id: int, milestone: Milestone) -> int | None:
    """Insert the (referrer, threshold) row unless it exists; its id only if inserted now."""
    values = {
        "referrer_id": referrer_id,
        "threshold": milestone.threshold,
        "reward": milestone.reward,
        "reached_at": utcnow(),
    }
    statement = (
        insert_skipping_existing(session, ReferralMilestone)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["referrer_id", "threshold"])
        .returning(ReferralMilestone.id)
    )
    return session.scalar(statement)


def credited_count(session: Session, referrer_id: int) -> int:
    """Confirmed readers ``referrer_id`` brought in (erased ones count for nothing)."""
    referred = aliased(Subscriber)
    count = session.scalar(
        select(func.count())
        .select_from(Referral)
        .join(referred, referred.id == Referral.referred_id)
        .where(
            Referral.referrer_id == referrer_id,
            Referral.credited_at.is_not(None),
            ~referred.email_key.startswith(ERASED_KEY_PREFIX),
        )
    )
    return count or 0


def forget_referrals(session: Session, subscriber: Subscriber) -> None:
    """Erasure: the person's referrals count for nothing, either way, and the link dies."""
    session.execute(
        delete(Referral).where(
            or_(Referral.referrer_id == subscriber.id, Referral.referred_id == subscriber.id)
        )
    )
    session.execute(delete(ReferralMilestone).where(ReferralMilestone.referrer_id == subscriber.id))
    subscriber.referral_code = new_referral_code()


@dataclass(frozen=True)
class LeaderboardRow:
    subscriber_id: int
    email: str
    referrals: int


@dataclass(frozen=True)
class ReferralTotals:
    """The desk's figures: credited and still-unconfirmed referrals, referrers, milestones."""

    credited: int
    awaiting: int
    referrers: int
    milestones: int


def leaderboard(session: Session, limit: int = 20) -> list[LeaderboardRow]:
    """Top referrers by credited referrals; erased people on either side are left out."""
    referrer, referred = aliased(Subscriber), aliased(Subscriber)
    count = func.count(Referral.id).label("referrals")
    rows = session.execute(
        select(referrer.id, referrer.email, count)
        .select_from(Referral)
        .join(referrer, referrer.id == Referral.referrer_id)
        .join(referred, referred.id == Referral.referred_id)
        .where(
            Referral.credited_at.is_not(None),
            ~referrer.email_key.startswith(ERASED_KEY_PREFIX),
            ~referred.email_key.startswith(ERASED_KEY_PREFIX),
        )
        .group_by(referrer.id, referrer.email)
        .order_by(count.desc(), referrer.id)
        .limit(limit)
    ).all()
    return [LeaderboardRow(sid, email, total) for sid, email, total in rows]


def referral_totals(session: Session) -> ReferralTotals:
    """Totals over everyone not erased."""
    referrer, referred = aliased(Subscriber), aliased(Subscriber)
    live = (
        select(Referral.credited_at, Referral.referrer_id)
        .join(referrer, referrer.id == Referral.referrer_id)
        .join(referred, referred.id == Referral.referred_id)
        .where(
            ~referrer.email_key.startswith(ERASED_KEY_PREFIX),
            ~referred.email_key.startswith(ERASED_KEY_PREFIX),
        )
        .subquery()
    )
    credited, awaiting, referrers = session.execute(
        select(
            func.count(live.c.credited_at),
            func.count() - func.count(live.c.credited_at),
            func.count(func.distinct(live.c.referrer_id)).filter(live.c.credited_at.is_not(None)),
        ).select_from(live)
    ).one()
    milestones = session.scalar(select(func.count()).select_from(ReferralMilestone)) or 0
    return ReferralTotals(int(credited), int(awaiting), int(referrers), milestones)


def milestone_of(session: Session, milestone_id: int) -> ReferralMilestone | None:
    """The milestone a queued ``milestone`` email announces."""
    return session.get(ReferralMilestone, milestone_id)
