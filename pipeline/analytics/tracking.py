"""What the per-recipient merge needs to track clicks (and opens): URLs, signer, switches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pipeline.analytics.tokens import OPEN, ClickSigner
from pulse_core.database import transaction
from subscribers.models import Subscriber

Untracked = Callable[[Sequence[int]], frozenset[int]]


def _nobody(_subscriber_ids: Sequence[int]) -> frozenset[int]:
    return frozenset()


@dataclass(frozen=True)
class ClickTracking:
    """Click and open tracking as the merge sees it (built by the wiring from settings).

    ``untracked`` answers, once per batch, which of its subscribers said "don't track my
    clicks" in their preferences: their links go direct and they get no open pixel.
    """

    base_url: str
    signer: ClickSigner
    clicks: bool = True  # PULSE_TRACK_CLICKS
    opens: bool = False  # PULSE_TRACK_OPENS
    untracked: Untracked = field(default=_nobody)

    def delivery_urls(
        self, delivery_id: int, issue_id: int, positions: Sequence[int], *, pixel: bool
    ) -> tuple[list[str], str | None]:
        """One delivery's click URLs for ``positions``, and its open-pixel URL if ``pixel``.

        One keyed hash covers all of them (see :meth:`ClickSigner.tokens`): this runs once
        per recipient on every send.
        """
        wanted = [*positions, OPEN] if pixel else positions
        tokens = self.signer.tokens(delivery_id, issue_id, wanted)
        prefix = f"{self.base_url}/c/"
        clicks = [prefix + token for token in tokens[: len(positions)]]
        return clicks, f"{self.base_url}/o/{tokens[-1]}.gif" if pixel else None


def untracked_lookup(sessions: sessionmaker[Session]) -> Untracked:
    """Reads the subscribers' "don't track my clicks" preference for a batch."""

    def untracked(subscriber_ids: Sequence[int]) -> frozenset[int]:
        ids = [i for i in subscriber_ids if i > 0]
        if not ids:
            return frozenset()
        with transaction(sessions) as session:
            found = session.scalars(
                select(Subscriber.id).where(
                    Subscriber.id.in_(ids), Subscriber.track_clicks.is_(False)
                )
            )
            return frozenset(found)

    return untracked
