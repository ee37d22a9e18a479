"""Quiet hours: when, in the customer's own time zone, a message must wait.

Quiet hours are a local time range ``start``–``end``; a range whose end is before its start runs over
midnight (22:00–07:00). Daylight-saving changes are handled by zoneinfo: "07:00" is 07:00 local time on
the day it happens, whatever the UTC offset is that day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from customer360.domain.values import QuietHours


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_period_end(now: datetime, quiet: QuietHours | None, time_zone: str) -> datetime | None:
    """The moment (in UTC terms of ``now``) the quiet period around ``now`` ends; None when not quiet."""
    if quiet is None:
        return None
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    start, end, clock = _clock(quiet.start), _clock(quiet.end), local.time()
    if start < end:
        if not start <= clock < end:
            return None
        day = local.date()
    else:
        if end <= clock < start:
            return None
        day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(now.tzinfo)
