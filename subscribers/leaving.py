"""A subscriber leaves: the one rule set every path applies.

Preferences and the unsubscribe link, provider events (bounces, complaints, provider-side
unsubscribes), a send that finds the address suppressed, and erasure all call
:func:`leave`. Whatever the reason, leaving does the same four things, in the caller's
transaction:

1. **Status**, with a history row naming the cause, for someone still on the list (active
   or pending). Someone who already left keeps the status they left with: the first reason
   is the one that happened.
2. **Suppression** of the address under a keyed hash, with the reason. An address already
   suppressed (under any key) keeps its first reason, so an erasure after a bounce stays a
   bounce and signing up again needs the recovery email (see ``signup.py``).
3. **No pause**: ``paused_until`` is cleared; a pause only means something on the list.
4. **No more mail of an issue being sent**: the person's deliveries still pending are
   withdrawn (the pipeline marks them skipped) so no later batch claims them and the
   send's counts are right at once. A batch already in flight cannot be called back.

An erased row (a tombstone) already left: a late bounce or send answer for it changes nothing.

=============  ==============  ==================
reason         status          suppression reason
=============  ==============  ==================
unsubscribed   unsubscribed    unsubscribed
bounced        bounced         bounced
complained     complained      complained
suppressed     bounced         bounced            (the provider refused the address at send)
erased         unsubscribed    erased             (then ``privacy.erase`` wipes the rest)
=============  ==============  ==================
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sqlalchemy.orm import Session

from subscribers.history import change_status
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import SuppressionReason, is_suppressed, suppress


class LeaveReason(enum.StrEnum):
    """Why someone leaves the list."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    SUPPRESSED = "suppressed"
    ERASED = "erased"


class _Outcome(NamedTuple):
    status: SubscriberStatus
    suppression: SuppressionReason


_UNSUBSCRIBED, _BOUNCED = SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED
# The table in the module docstring.
_OUTCOME = {
    LeaveReason.UNSUBSCRIBED: _Outcome(_UNSUBSCRIBED, SuppressionReason.UNSUBSCRIBED),
    LeaveReason.BOUNCED: _Outcome(_BOUNCED, SuppressionReason.BOUNCED),
    LeaveReason.COMPLAINED: _Outcome(SubscriberStatus.COMPLAINED, SuppressionReason.COMPLAINED),
    LeaveReason.SUPPRESSED: _Outcome(_BOUNCED, SuppressionReason.BOUNCED),
    LeaveReason.ERASED: _Outcome(_UNSUBSCRIBED, SuppressionReason.ERASED),
}

ON_THE_LIST = frozenset({SubscriberStatus.ACTIVE, SubscriberStatus.PENDING})


class WithdrawPending(Protocol):
    """Marks a subscriber's still-pending deliveries so they are never sent; returns how many.

    The pipeline owns deliveries, so the wiring hands this step in (``subscribers`` never
    imports ``pipeline``).
    """

    def __call__(self, session: Session, subscriber_id: int) -> int: ...


@dataclass(frozen=True)
class LeavingRules:
    """What leaving needs from outside: hash keys (newest first) and the withdraw step.

    New suppressions are hashed under ``hash_keys[0]``; older keys only recognise
    addresses suppressed before a key rotation. With no keys nothing is suppressed (only
    tests that configure no secret do that).
    """

    hash_keys: Sequence[str]
    withdraw_pending: WithdrawPending


@dataclass(frozen=True)
class Departure:
    """What :func:`leave` changed: repeating it changes nothing and says so."""

    status_changed: bool
    suppressed: bool
    withdrawn: int


def leave(
    session: Session,
    subscriber: Subscriber,
    reason: LeaveReason,
    *,
    cause: str,
    rules: LeavingRules,
    detail: str | None = None,
) -> Departure:
    """Take ``subscriber`` off the list for ``reason`` (see the module docstring for the rules).

    ``cause`` is recorded in the history ("unsubscribe:one-click", "bounce:hard:postmark",
    "admin", ...), ``detail`` beside it. Safe to repeat: a second call changes nothing.
    """
    if subscriber.erased:
        # Erasure was this person's way out; the tombstone's address is only a placeholder.
        return Departure(status_changed=False, suppressed=False, withdrawn=0)
    status = _OUTCOME[reason].status
    changed = subscriber.status in ON_THE_LIST and change_status(
        session, subscriber, status, cause=cause, detail=detail
    )
    added = suppress_leaving_address(session, subscriber.email, reason, rules)
    subscriber.paused_until = None
    withdrawn = rules.withdraw_pending(session, subscriber.id)
    session.flush()
    return Departure(status_changed=changed, suppressed=added, withdrawn=withdrawn)


def suppress_leaving_address(
    session: Session, email: str, reason: LeaveReason, rules: LeavingRules
) -> bool:
    """Suppress ``email`` for ``reason`` unless it already is (under any key); True if added.

    :func:`leave` does this for the subscriber's address; the events policy also for an
    address a report names that no subscriber owns.
    """
    if not rules.hash_keys or is_suppressed(session, email, rules.hash_keys):
        return False
    suppress(session, email, _OUTCOME[reason].suppression, rules.hash_keys[0])
    return True
