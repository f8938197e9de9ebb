"""Schedule arithmetic in the newsletter's time zone (correct across daylight-saving changes).

The week's send time is a local wall-clock time ("tue 09:00" in America/New_York); it is
turned into an instant only at the end, so 09:00 stays 09:00 when the offset changes.

With local-time sending (``PULSE_SEND_LOCAL_TIME``, delivery/waves.py) the schedule's day is
still the send day, but each reader's copy goes at the local time in their own zone: the
send starts (build, readiness check, first wave) when the first zone on Earth (UTC+14)
reaches that time on the send day, and the schedule's weeks are counted in that zone, so a
send that starts on the eve of its day in ``zone`` still belongs to its own week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from pipeline.delivery.waves import EARLIEST_ZONE, WavePlan, start_of_waves
from pipeline.weeks import WEEKDAYS, week_key, week_monday


@dataclass(frozen=True)
class WeeklySchedule:
    """A weekday and local time in a time zone."""

    weekday: int  # 0 = Monday
    hour: int
    minute: int
    zone: ZoneInfo
    local_time: time | None = None  # PULSE_SEND_LOCAL_TIME: each reader's own clock

    @classmethod
    def parse(cls, schedule: str, timezone: str, local_time: str = "") -> WeeklySchedule:
        """From the validated ``PULSE_SCHEDULE``, ``PULSE_TIMEZONE``, ``PULSE_SEND_LOCAL_TIME``."""
        day, clock = schedule.split()
        hour, minute = clock.split(":")
        local = time.fromisoformat(local_time) if local_time else None
        return cls(WEEKDAYS.index(day), int(hour), int(minute), ZoneInfo(timezone), local)

    def send_day(self, week: str) -> date:
        """The issue's send date (the schedule's weekday of ``week``, in ``zone``)."""
        return week_monday(week) + timedelta(days=self.weekday)

    def send_time(self, week: str) -> datetime:
        """When ``week``'s issue is due (with waves: when its first zone is), as UTC."""
        day = self.send_day(week)
        if self.local_time is not None:
            return start_of_waves(day, self.local_time)
        local = datetime(day.year, day.month, day.day, self.hour, self.minute, tzinfo=self.zone)
        return local.astimezone(UTC)

    def wave_plan(self, week: str) -> WavePlan | None:
        """When each reader's copy of ``week`` is due; None without local-time sending."""
        if self.local_time is None:
            return None
        return WavePlan(self.send_day(week), self.local_time, self.zone.key)

    @property
    def week_zone(self) -> ZoneInfo:
        """The zone the schedule's weeks are counted in (see the module docstring)."""
        return self.zone if self.local_time is None else EARLIEST_ZONE

    def week_at(self, moment: datetime) -> str:
        """The ISO week ``moment`` falls in, in the schedule's week zone."""
        return week_key(moment.astimezone(self.week_zone).date())

    def previous_send(self, now: datetime) -> datetime:
        """The latest due time at or before ``now``."""
        due = self.send_time(self.week_at(now))
        if due > now:
            due = self.send_time(self.week_at(now - timedelta(days=7)))
        return due

    def next_send(self, now: datetime) -> datetime:
        """The earliest due time after ``now``."""
        due = self.send_time(self.week_at(now))
        if due <= now:
            due = self.send_time(self.week_at(now + timedelta(days=7)))
        return due

    def trigger(self) -> CronTrigger:
        """APScheduler's cron trigger for the send time (it handles DST in ``zone``)."""
        if self.local_time is not None:
            return CronTrigger(
                day_of_week=WEEKDAYS[self.weekday],
                hour=self.local_time.hour,
                minute=self.local_time.minute,
                timezone=EARLIEST_ZONE,
            )
        return CronTrigger(
            day_of_week=WEEKDAYS[self.weekday],
            hour=self.hour,
            minute=self.minute,
            timezone=self.zone,
        )
