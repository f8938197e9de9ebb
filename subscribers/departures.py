"""People an import says left the platform the file came from: suppressed, never mailed.

Another platform's export (:mod:`subscribers.platforms`) lists the people who unsubscribed
there, whose mail bounced, who complained; nobody of those may be mailed from here. So an
import never adds them: a new address is suppressed under its keyed hash only (no personal
data is kept about someone who left), someone still on our list leaves it through
:func:`subscribers.leaving.leave` (the one way out: history, suppression, withdrawn
deliveries), and someone already off the list keeps the reason they left with. Nobody is
ever un-suppressed by an import: only the owner's confirmation lifts a suppression.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from pulse_core.database import utcnow
from subscribers.leaving import ON_THE_LIST, LeaveReason, LeavingRules, leave
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import Suppression, SuppressionReason, address_hash, suppressed_among


class Standing(enum.StrEnum):
    """Where a line's person stood on the platform the file came from.

    Our own CSV has no such column: everyone in it is ``subscribed``.
    """

    SUBSCRIBED = "subscribed"
    UNCONFIRMED = "unconfirmed"  # never confirmed there: imported only when asking again
    UNSUBSCRIBED = "unsubscribed"  # these three left: suppressed, never mailed
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    GONE = "gone"  # deleted or disabled there: neither imported nor suppressed


_LEAVE_REASON = {
    Standing.UNSUBSCRIBED: LeaveReason.UNSUBSCRIBED,
    Standing.BOUNCED: LeaveReason.BOUNCED,
    Standing.COMPLAINED: LeaveReason.COMPLAINED,
}
_SUPPRESSION_REASON = {
    Standing.UNSUBSCRIBED: SuppressionReason.UNSUBSCRIBED,
    Standing.BOUNCED: SuppressionReason.BOUNCED,
    Standing.COMPLAINED: SuppressionReason.COMPLAINED,
}
LEFT = frozenset(_LEAVE_REASON)


@dataclass
class DepartureCounts:
    """What :func:`apply_departures` did (or, in a dry run, would do)."""

    suppressed_new: int = 0  # new addresses, suppressed on arrival
    left: int = 0  # on our list, taken off it
    already_suppressed: int = 0  # already off our list or suppressed: unchanged


def apply_departures(
    session: Session,
    leavers: Mapping[str, tuple[str, Standing]],
    existing: Mapping[str, SubscriberStatus],
    counts: DepartureCounts,
    *,
    hash_keys: Sequence[str],
    leaving: LeavingRules | None,
    detail: str,
    dry_run: bool,
) -> None:
    """Apply ``leavers`` (email key → address and standing) in the caller's transaction.

    ``existing`` maps the keys already on our list to their status.
    """
    on_list = [key for key in leavers if existing.get(key) in ON_THE_LIST]
    counts.left += len(on_list)
    if on_list and not dry_run:
        if leaving is None:
            raise ValueError("taking people off the list needs the leaving rules")
        people = session.scalars(select(Subscriber).where(Subscriber.email_key.in_(on_list)))
        for person in people:
            reason = _LEAVE_REASON[leavers[person.email_key][1]]
            leave(session, person, reason, cause="import", detail=detail, rules=leaving)
    counts.already_suppressed += sum(1 for key in leavers if key in existing) - len(on_list)
    new = [leavers[key] for key in leavers if key not in existing]
    known = suppressed_among(session, [email for email, _ in new], hash_keys) if new else set()
    counts.already_suppressed += len(known)
    new = [(email, standing) for email, standing in new if email not in known]
    counts.suppressed_new += len(new)
    if new and hash_keys and not dry_run:
        now = utcnow()
        rows = [
            {
                "email_hash": address_hash(email, hash_keys[0]),
                "reason": _SUPPRESSION_REASON[standing],
                "created_at": now,
            }
            for email, standing in new
        ]
        session.execute(insert(cast(Table, Suppression.__table__)), rows)
