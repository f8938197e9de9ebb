"""Schedule arithmetic in the newsletter's time zone (correct across daylight-saving changes).

The week's send time is a local wall-clock time ("tue 09:00" in America/New_York); it is
turned into an instant only at the end, so 09:00 stays 09:00 when the offset changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from pipeline.weeks import WEEKDAYS, week_key, week_monday


@dataclass(frozen=True)
class WeeklySchedule:
    """A weekday and local time in a time zone."""

    weekday: int  # 0 = Monday
    hour: int
    minute: int
    zone: ZoneInfo

    @classmethod
    def parse(cls, schedule: str, timezone: str) -> WeeklySchedule:
        """From the validated settings ``PULSE_SCHEDULE`` and ``PULSE_TIMEZONE``."""
        day, clock = schedule.split()
        hour, minute = clock.split(":")
        return cls(WEEKDAYS.index(day), int(hour), int(minute), ZoneInfo(timezone))

    def send_time(self, week: str) -> datetime:
        """When ``week``'s issue is due, as an aware UTC instant."""
        day = week_monday(week) + timedelta(days=self.weekday)
        local = datetime(day.year, day.month, day.day, self.hour, self.minute, tzinfo=self.zone)
        return local.astimezone(UTC)

    def week_at(self, moment: datetime) -> str:
        """The ISO week ``moment`` falls in, in the newsletter's time zone."""
        return week_key(moment.astimezone(self.zone).date())

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
        return CronTrigger(
            day_of_week=WEEKDAYS[self.weekday],
            hour=self.hour,
            minute=self.minute,
            timezone=self.zone,
        )
