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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

from sqlalchemy.orm import Session

from subscribers.addresses import email_key
from subscribers.history import status_change
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import SuppressionReason, new_suppression, suppressed_among


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
    """Marks these subscribers' still-pending deliveries so they are never sent; returns how many.

    The pipeline owns deliveries, so the wiring hands this step in (``subscribers`` never
    imports ``pipeline``). One statement for a whole batch of leavers.
    """

    def __call__(self, session: Session, subscriber_ids: Collection[int]) -> int: ...


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
    batch = Departures(session, rules, [subscriber.email])
    departure = batch.leave(subscriber, reason, cause=cause, detail=detail)
    return replace(departure, withdrawn=batch.finish())


def suppress_leaving_address(
    session: Session, email: str, reason: LeaveReason, rules: LeavingRules
) -> bool:
    """Suppress ``email`` for ``reason`` unless it already is (under any key); True if added.

    :func:`leave` does this for the subscriber's address; the events policy also for an
    address a report names that no subscriber owns.
    """
    batch = Departures(session, rules, [email])
    added = batch.suppress_address(email, reason)
    batch.finish()
    return added


class Departures:
    """Several departures in order, written with a few statements: the rules of :func:`leave`.

    Provider events arrive by the thousand; each departure is decided in memory, in order
    (the first reason wins, an address is suppressed once), and :meth:`finish` adds the
    history and suppression rows with one flush and withdraws every leaver's pending
    deliveries in one statement. ``addresses`` are the ones likely to come up: their
    suppression is looked up in one query (any other is looked up when it comes).
    """

    def __init__(self, session: Session, rules: LeavingRules, addresses: Iterable[str]) -> None:
        self._session = session
        self._rules = rules
        self._known: dict[str, bool] = {}  # email key → suppressed (under any key)
        self._rows: list[object] = []
        self._leavers: list[int] = []
        self._look_up(addresses)

    def _look_up(self, addresses: Iterable[str]) -> None:
        fresh = list(
            {email_key(a): a for a in addresses if email_key(a) not in self._known}.values()
        )
        if not fresh or not self._rules.hash_keys:
            return
        found = {
            email_key(a) for a in suppressed_among(self._session, fresh, self._rules.hash_keys)
        }
        for address in fresh:
            self._known[email_key(address)] = email_key(address) in found

    def leave(
        self, subscriber: Subscriber, reason: LeaveReason, *, cause: str, detail: str | None = None
    ) -> Departure:
        """Decide ``subscriber``'s departure now; rows are written by :meth:`finish`."""
        if subscriber.erased:
            # Erasure was this person's way out; the tombstone's address is only a placeholder.
            return Departure(status_changed=False, suppressed=False, withdrawn=0)
        change = None
        if subscriber.status in ON_THE_LIST:
            change = status_change(subscriber, _OUTCOME[reason].status, cause=cause, detail=detail)
        if change is not None:
            self._rows.append(change)
        added = self.suppress_address(subscriber.email, reason)
        subscriber.paused_until = None
        self._leavers.append(subscriber.id)
        return Departure(status_changed=change is not None, suppressed=added, withdrawn=0)

    def suppress_address(self, email: str, reason: LeaveReason) -> bool:
        """Suppress ``email`` unless it already is (or was earlier in this batch); True if added."""
        if not self._rules.hash_keys:
            return False
        self._look_up([email])
        key = email_key(email)
        if self._known[key]:
            return False
        self._known[key] = True
        self._rows.append(
            new_suppression(email, _OUTCOME[reason].suppression, self._rules.hash_keys[0])
        )
        return True

    def finish(self) -> int:
        """Write what was decided; returns how many pending deliveries were withdrawn."""
        self._session.add_all(self._rows)
        self._rows = []
        withdrawn = 0
        if self._leavers:
            withdrawn = self._rules.withdraw_pending(self._session, sorted(set(self._leavers)))
            self._leavers = []
        self._session.flush()
        return withdrawn
