"""Partial dates (`2019`, `2019-10`, `2019-10-15`, ISO timestamps) as closed intervals of seconds.

A date names an interval: a year, a month, a day or one instant. Two intervals match when they
overlap, and both ends of a range are inclusive at their own precision, so `2019-10` lies within
`[2019 TO 2019]`, `>=2019-10-20` and `<2019-11`. Instants without a zone are taken as UTC.

Relative dates (`now`, `now-30d`, `now-2w`, `now-6m`, `now-1y`) name a UTC day counted back
from a clock given at query time (`resolve`), and are then dates like any other.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from newssearch.errors import DateError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_DATE_RE = re.compile(
    r"""(?P<year>\d{4})
        (?:-(?P<month>\d{2})
          (?:-(?P<day>\d{2})
            (?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?
               (?P<zone>Z|[+-]\d{2}:?\d{2})?
            )?
          )?
        )?""",
    re.VERBOSE,
)


_RELATIVE_RE = re.compile(r"now(?:-(?P<count>\d+)(?P<unit>[dwmy]))?")
_SHORTHAND_RE = re.compile(r"-\d+[dwmy]")
_RELATIVE_FORMS = "now, now-30d, now-2w, now-6m or now-1y"


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH) // timedelta(seconds=1))


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date at its own precision: `start` and `end` are inclusive UTC seconds since 1970."""

    start: int
    end: int
    text: str

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Returns the interval `text` names; raises DateError for anything else (`2019-13`)."""
        raw = text.strip()
        match = _DATE_RE.fullmatch(raw)
        if match is None:
            raise DateError(
                f"not a date: {text!r} (expected YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)"
            )
        year = int(match["year"])
        if year < 1:
            raise DateError(f"impossible date: {text!r} (year 0)")
        if match["month"] is None:
            return cls._days(datetime(year, 1, 1), datetime(year, 12, 31), f"{year:04d}")
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise DateError(f"impossible date: {text!r} (month {month})")
        last_day = calendar.monthrange(year, month)[1]
        if match["day"] is None:
            return cls._days(
                datetime(year, month, 1), datetime(year, month, last_day), f"{year:04d}-{month:02d}"
            )
        day = int(match["day"])
        if not 1 <= day <= last_day:
            raise DateError(f"impossible date: {text!r} (no day {day} in {year:04d}-{month:02d})")
        if match["hour"] is None:
            first = datetime(year, month, day)
            return cls._days(first, first, f"{year:04d}-{month:02d}-{day:02d}")
        return cls._instant(raw, match, year, month, day)

    @classmethod
    def _days(cls, first: datetime, last: datetime, text: str) -> PartialDate:
        """Returns the interval from the first second of `first` to the last second of `last`."""
        start = _seconds(first.replace(tzinfo=timezone.utc))
        end = _seconds(last.replace(hour=23, minute=59, second=59, tzinfo=timezone.utc))
        return cls(start, end, text)

    @classmethod
    def _instant(
        cls, raw: str, match: re.Match[str], year: int, month: int, day: int
    ) -> PartialDate:
        hour, minute = int(match["hour"]), int(match["minute"])
        second = int(match["second"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise DateError(f"impossible time: {raw!r}")
        zone = match["zone"]
        tz = timezone.utc
        zone_text = ""
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:])
            if hours > 23 or minutes > 59:
                raise DateError(f"impossible time zone: {raw!r}")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
            zone_text = f"{zone[0]}{hours:02d}:{minutes:02d}"
        elif zone == "Z":
            zone_text = "Z"
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz)
        text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{zone_text}"
        instant = _seconds(moment)
        return cls(instant, instant, text)

    def overlaps(self, low: int | None, high: int | None) -> bool:
        """Returns whether this interval meets [low, high]; None is an open end."""
        return (high is None or self.start <= high) and (low is None or self.end >= low)

    def __str__(self) -> str:
        return self.text


def utc(now: datetime | None) -> datetime:
    """Returns `now` as an aware UTC datetime (naive is taken as UTC); None: the system clock."""
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        return now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc)


def resolve(text: str, now: datetime | None = None, *, shorthand: bool = False) -> PartialDate:
    """Returns the interval `text` names: a partial date, or a relative date resolved to a day.

    `now` is today's UTC day, `now-30d` / `now-2w` / `now-6m` / `now-1y` the UTC day that many
    days, weeks, calendar months or years before `now` (the system clock when None); a month or
    year back keeps the day of the month, or takes the month's last day where it has fewer
    (2024-03-31 minus 1m is 2024-02-29). With `shorthand` (the --from/--to options), `-30d`
    means `now-30d`. Raises DateError for anything else (`now-5x`, `now+`).
    """
    raw = text.strip()
    if shorthand and _SHORTHAND_RE.fullmatch(raw):
        raw = "now" + raw
    if not raw.startswith("now"):
        if _SHORTHAND_RE.fullmatch(raw):
            raise DateError(f"not a date: {text!r} (write now{raw} in a query)")
        if _DATE_RE.fullmatch(raw) is None:
            raise DateError(
                f"not a date: {text!r} (expected YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp, "
                f"or {_RELATIVE_FORMS})"
            )
        return PartialDate.parse(text)
    match = _RELATIVE_RE.fullmatch(raw)
    if match is None:
        raise DateError(f"not a relative date: {text!r} (expected {_RELATIVE_FORMS})")
    day, unit = utc(now).date(), match["unit"]
    try:
        count = int(match["count"] or 0)
        if unit in ("d", "w"):
            day -= timedelta(days=count * (7 if unit == "w" else 1))
        elif unit in ("m", "y"):
            months = day.year * 12 + day.month - 1 - count * (12 if unit == "y" else 1)
            year, month = divmod(months, 12)
            month += 1
            day = day.replace(
                year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
            )
    except (OverflowError, ValueError):
        raise DateError(f"relative date too far back: {text!r} (before the year 1)") from None
    first = datetime(day.year, day.month, day.day)
    return PartialDate._days(first, first, day.isoformat())


@dataclass(frozen=True)
class DateRange:
    """An inclusive interval of seconds; None is an open end. Made from partial dates."""

    low: int | None = None
    high: int | None = None

    @classmethod
    def between(
        cls,
        first: str | None,
        last: str | None,
        now: datetime | None = None,
        *,
        shorthand: bool = False,
    ) -> DateRange:
        """Returns the range from the start of `first` to the end of `last` (either may be None);
        relative dates are resolved against `now` (see `resolve`)."""
        return cls(
            resolve(first, now, shorthand=shorthand).start if first else None,
            resolve(last, now, shorthand=shorthand).end if last else None,
        )

    def intersect(self, other: DateRange) -> DateRange:
        """Returns the range both ranges cover."""
        lows = [v for v in (self.low, other.low) if v is not None]
        highs = [v for v in (self.high, other.high) if v is not None]
        return DateRange(max(lows) if lows else None, min(highs) if highs else None)

    def is_open(self) -> bool:
        return self.low is None and self.high is None
