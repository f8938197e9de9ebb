"""What one run of the send loop did, and how it ended, in words every front end shares."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


class RunEnd(enum.StrEnum):
    """How a run ended. Only ``finished`` means every recipient is done."""

    FINISHED = "finished"  # the issue is sent (by this run, or the last batches by another)
    PAUSED = "paused"  # the send is paused and waits for an operator (`pulse issue resume`)
    STOPPED = "stopped"  # asked to stop (SIGTERM) or lost its liveness lock; resumes later
    WAVES_PENDING = "waiting-for-wave"  # local-time sending: later waves are not due yet
    RETRIES_PENDING = "retries-pending"  # only retries not yet due are left (see retry.py)
    UNFINISHED = "unfinished"  # other live workers still hold batches in flight


@dataclass
class SendReport:
    """What one run of the send loop did."""

    week_key: str
    created: int = 0
    outcome: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    finished: bool = False
    finished_elsewhere: bool = False  # the issue is sent, the last batches by another worker
    paused_reason: str | None = None
    stopped_reason: str | None = None
    retries_pending: int = 0
    next_retry_at: datetime | None = None
    in_flight_elsewhere: int = 0  # rows other live workers held when the run ended
    waves_pending: int = 0  # rows waiting for their local-time wave (delivery/waves.py)
    next_wave_at: datetime | None = None
    sent_in_all: int | None = None  # the messages sent by now, by every process

    @property
    def shared(self) -> bool:
        """Whether part of the issue was sent elsewhere: by other processes, or earlier runs."""
        return self.sent_in_all is not None and self.sent_in_all > self.sent

    @property
    def sent(self) -> int:
        return self.outcome["sent"]

    @property
    def end(self) -> RunEnd:
        if self.finished:
            return RunEnd.FINISHED
        if self.paused_reason:
            return RunEnd.PAUSED
        if self.stopped_reason:
            return RunEnd.STOPPED
        if self.waves_pending and not self.in_flight_elsewhere:
            return RunEnd.WAVES_PENDING
        if self.retries_pending:
            return RunEnd.RETRIES_PENDING
        return RunEnd.UNFINISHED

    def describe_sent(self) -> str:
        """``sent N`` for this run, and the issue's total when others sent part of it."""
        if not self.shared:
            return f"sent {self.sent}"
        return f"sent {self.sent} (of {self.sent_in_all} sent in all)"

    def describe_end(self) -> str:
        """One phrase for the summary line: how the send stands after this run."""
        end = self.end
        if end is RunEnd.FINISHED:
            by_other = " by another worker" if self.finished_elsewhere else ""
            return f"finished{by_other}"
        if end is RunEnd.PAUSED:
            return f"paused: {self.paused_reason} (run `pulse issue resume` when it is fixed)"
        if end is RunEnd.STOPPED:
            return f"unfinished: {self.stopped_reason}; run `pulse issue resume` to continue"
        if end is RunEnd.WAVES_PENDING:
            when = f"{self.next_wave_at:%Y-%m-%d %H:%M} UTC" if self.next_wave_at else "later"
            retries = f"; {self.retries_pending} retry(ies) pending" if self.retries_pending else ""
            return (
                f"sending: waiting for the wave at {when} ({self.waves_pending} reader(s) in "
                f"waves to come{retries}); `pulse worker` or the scheduler sends it then"
            )
        if end is RunEnd.RETRIES_PENDING:
            when = f"{self.next_retry_at:%Y-%m-%d %H:%M:%S} UTC" if self.next_retry_at else "later"
            return (
                f"waiting: {self.retries_pending} recipient(s) refused for now, next retry at "
                f"{when}; `pulse worker`, the scheduler or `pulse issue resume` sends them"
            )
        return (
            f"unfinished: {self.in_flight_elsewhere} message(s) still in flight in other "
            "workers; they finish it (or run `pulse issue resume`)"
        )
