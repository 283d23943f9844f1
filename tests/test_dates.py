"""Partial dates as closed intervals of UTC seconds, and the ranges made from them."""

from __future__ import annotations

import calendar
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARTICLES, write_jsonl
from hypothesis import given
from hypothesis import strategies as st

from newssearch.cli import main
from newssearch.dates import DateRange, PartialDate, resolve, utc
from newssearch.errors import DateError, NewssearchError

DAY = 86_400


def ts(
    year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, sec: int = 0
) -> int:
    """UTC seconds since 1970, computed independently of newssearch."""
    return calendar.timegm((year, month, day, hour, minute, sec, 0, 0, 0))


def day_end(year: int, month: int, day: int) -> int:
    return ts(year, month, day, 23, 59, 59)


# --- every precision -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "shown"),
    [
        ("2019", ts(2019), day_end(2019, 12, 31), "2019"),
        ("2019-10", ts(2019, 10), day_end(2019, 10, 31), "2019-10"),
        ("2019-10-15", ts(2019, 10, 15), day_end(2019, 10, 15), "2019-10-15"),
        ("2019-10-15T10:20:30", ts(2019, 10, 15, 10, 20, 30), None, "2019-10-15T10:20:30"),
        ("2019-10-15 10:20:30", ts(2019, 10, 15, 10, 20, 30), None, "2019-10-15T10:20:30"),
        ("2019-10-15T10:20", ts(2019, 10, 15, 10, 20), None, "2019-10-15T10:20:00"),
        ("2019-10-15T10:20:30Z", ts(2019, 10, 15, 10, 20, 30), None, "2019-10-15T10:20:30Z"),
        (
            "2019-10-15T10:20:30+02:00",
            ts(2019, 10, 15, 8, 20, 30),
            None,
            "2019-10-15T10:20:30+02:00",
        ),
        (
            "2019-10-15T10:20:30+0200",
            ts(2019, 10, 15, 8, 20, 30),
            None,
            "2019-10-15T10:20:30+02:00",
        ),
        (
            "2019-10-15T10:20:30-0530",
            ts(2019, 10, 15, 15, 50, 30),
            None,
            "2019-10-15T10:20:30-05:30",
        ),
        (
            "2019-10-15T10:20:30-05:30",
            ts(2019, 10, 15, 15, 50, 30),
            None,
            "2019-10-15T10:20:30-05:30",
        ),
        (
            "2019-10-15T10:20:30+00:00",
            ts(2019, 10, 15, 10, 20, 30),
            None,
            "2019-10-15T10:20:30+00:00",
        ),
        # Fractions of a second are dropped: the instant is the whole second.
        ("2019-10-15T10:20:30.999999Z", ts(2019, 10, 15, 10, 20, 30), None, "2019-10-15T10:20:30Z"),
        ("2019-10-15T10:20:30,5", ts(2019, 10, 15, 10, 20, 30), None, "2019-10-15T10:20:30"),
        (
            "2019-10-15T10:20:30.123+01:00",
            ts(2019, 10, 15, 9, 20, 30),
            None,
            "2019-10-15T10:20:30+01:00",
        ),
        # Surrounding whitespace is ignored.
        ("  2019-10\n", ts(2019, 10), day_end(2019, 10, 31), "2019-10"),
    ],
)
def test_parse_each_precision(text: str, start: int, end: int | None, shown: str) -> None:
    date = PartialDate.parse(text)
    assert date.start == start
    assert date.end == (start if end is None else end)
    assert date.text == shown
    assert str(date) == shown


def test_a_timestamp_text_parses_back_to_the_same_instant() -> None:
    for text in ["2019-10-15T10:20:30-0530", "2019-10-15 10:20", "2019-10-15T10:20:30.5Z"]:
        date = PartialDate.parse(text)
        assert PartialDate.parse(date.text) == date


@pytest.mark.parametrize("text", ["2019", "2019-10", "2019-10-15", "2019-10-15T10:20:30Z"])
def test_text_is_kept_at_its_own_precision(text: str) -> None:
    assert PartialDate.parse(text).text == text


def test_early_and_late_years() -> None:
    assert PartialDate.parse("0001").start == ts(1)
    assert PartialDate.parse("1969-12-31").end == -1
    assert PartialDate.parse("1970").start == 0
    assert PartialDate.parse("9999").end == day_end(9999, 12, 31)
    assert PartialDate.parse("0001-01-01T00:00+01:00").start == ts(1) - 3600


# --- month ends, leap years, year ends ---------------------------------------------------


@pytest.mark.parametrize(
    ("month", "days"),
    [
        ("2019-01", 31),
        ("2019-02", 28),
        ("2019-04", 30),
        ("2019-06", 30),
        ("2019-09", 30),
        ("2019-11", 30),
        ("2019-12", 31),
        ("2020-02", 29),
        ("2000-02", 29),
        ("1900-02", 28),
        ("2100-02", 28),
    ],
)
def test_month_lengths(month: str, days: int) -> None:
    date = PartialDate.parse(month)
    year, mon = (int(part) for part in month.split("-"))
    assert date.start == ts(year, mon)
    assert date.end == day_end(year, mon, days)
    assert date.end - date.start + 1 == days * DAY


@pytest.mark.parametrize(("year", "days"), [(2019, 365), (2020, 366), (2000, 366), (1900, 365)])
def test_year_lengths(year: int, days: int) -> None:
    date = PartialDate.parse(str(year))
    assert date.end - date.start + 1 == days * DAY
    assert date.end + 1 == ts(year + 1)


@pytest.mark.parametrize("text", ["2020-02-29", "2000-02-29", "2019-04-30", "2019-12-31"])
def test_last_days_that_exist(text: str) -> None:
    year, month, day = (int(part) for part in text.split("-"))
    date = PartialDate.parse(text)
    assert (date.start, date.end) == (ts(year, month, day), day_end(year, month, day))


def test_the_end_of_a_year_is_its_last_second() -> None:
    year = PartialDate.parse("2019")
    assert year.end == PartialDate.parse("2019-12-31T23:59:59").start
    assert year.end + 1 == PartialDate.parse("2020-01-01T00:00:00").start
    assert PartialDate.parse("2019-12").end == year.end
    assert PartialDate.parse("2019-12-31").end == year.end


# --- a zone moves an instant across a day, month or year --------------------------------


@pytest.mark.parametrize(
    ("text", "utc", "inside", "outside"),
    [
        # 00:30 local at +01:00 is 23:30 UTC the day before: previous day, month and year.
        ("2020-01-01T00:30:00+01:00", ts(2019, 12, 31, 23, 30), "2019-12-31", "2020"),
        ("2020-01-01T00:30:00+01:00", ts(2019, 12, 31, 23, 30), "2019", "2020-01"),
        # 23:30 local at -01:00 is 00:30 UTC the day after: next day, month and year.
        ("2019-12-31T23:30:00-01:00", ts(2020, 1, 1, 0, 30), "2020-01-01", "2019"),
        ("2019-10-31T23:00:00-0200", ts(2019, 11, 1, 1, 0), "2019-11", "2019-10"),
        ("2019-10-15T01:00:00+02:00", ts(2019, 10, 14, 23, 0), "2019-10-14", "2019-10-15"),
        ("2019-03-01T05:00:00+05:30", ts(2019, 2, 28, 23, 30), "2019-02", "2019-03"),
    ],
)
def test_a_zone_moves_the_instant(text: str, utc: int, inside: str, outside: str) -> None:
    date = PartialDate.parse(text)
    assert date.start == date.end == utc
    assert date.text == text.replace("-0200", "-02:00")
    assert date.overlaps(*_bounds(PartialDate.parse(inside)))
    assert not date.overlaps(*_bounds(PartialDate.parse(outside)))


def _bounds(date: PartialDate) -> tuple[int, int]:
    return date.start, date.end


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2019-13", "impossible date: '2019-13' (month 13)"),
        ("2019-00", "impossible date: '2019-00' (month 0)"),
        ("2019-02-29", "impossible date: '2019-02-29' (no day 29 in 2019-02)"),
        ("1900-02-29", "impossible date: '1900-02-29' (no day 29 in 1900-02)"),
        ("2019-04-31", "impossible date: '2019-04-31' (no day 31 in 2019-04)"),
        ("2019-10-00", "impossible date: '2019-10-00' (no day 0 in 2019-10)"),
        ("0000", "impossible date: '0000' (year 0)"),
        ("0000-01-01", "impossible date: '0000-01-01' (year 0)"),
        ("2019-10-15T24:00", "impossible time: '2019-10-15T24:00'"),
        ("2019-10-15T10:60", "impossible time: '2019-10-15T10:60'"),
        ("2019-10-15T10:20:60", "impossible time: '2019-10-15T10:20:60'"),
        ("2019-10-15T10:20+24:00", "impossible time zone: '2019-10-15T10:20+24:00'"),
        ("2019-10-15T10:20+02:60", "impossible time zone: '2019-10-15T10:20+02:60'"),
    ],
)
def test_impossible_dates(text: str, reason: str) -> None:
    with pytest.raises(DateError) as caught:
        PartialDate.parse(text)
    assert str(caught.value) == reason


NOT_A_DATE = "(expected YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)"


@pytest.mark.parametrize(
    "text",
    [
        "2019-1",
        "2019-10-1",
        "19",
        "019",
        "20191",
        "20191015",
        "abc",
        "",
        "   ",
        "2019-",
        "2019-10-15T",
        "2019-10-15T10",
        "2019-10-15T10:20+02",
        "2019-10-15T10:20:30.Z",
        "2019-10-15t10:20",
        "2019/10/15",
        "+2019",
        "-2019",
        "2019-W01",
        "2019-10-15T10:20:30 extra",
    ],
)
def test_not_a_date(text: str) -> None:
    with pytest.raises(DateError) as caught:
        PartialDate.parse(text)
    assert str(caught.value) == f"not a date: {text!r} {NOT_A_DATE}"


def test_date_error_is_a_value_error_and_a_newssearch_error() -> None:
    with pytest.raises(ValueError):
        PartialDate.parse("2019-13")
    with pytest.raises(NewssearchError):
        PartialDate.parse("abc")


# --- overlaps ----------------------------------------------------------------------------


def test_overlaps_is_inclusive_at_both_ends() -> None:
    october = PartialDate.parse("2019-10")
    first, last = ts(2019, 10), day_end(2019, 10, 31)
    assert october.overlaps(first, first)
    assert october.overlaps(last, last)
    assert october.overlaps(last, None)
    assert october.overlaps(None, first)
    assert not october.overlaps(last + 1, None)
    assert not october.overlaps(None, first - 1)
    assert not october.overlaps(last + 1, last + 1000)
    assert not october.overlaps(first - 1000, first - 1)
    assert october.overlaps(None, None)
    # A range inside the interval, and one that contains it.
    assert october.overlaps(ts(2019, 10, 10), ts(2019, 10, 11))
    assert october.overlaps(ts(2019), day_end(2019, 12, 31))


def test_an_instant_overlaps_only_ranges_that_contain_it() -> None:
    instant = PartialDate.parse("2019-10-15T10:20:30Z")
    at = ts(2019, 10, 15, 10, 20, 30)
    assert instant.overlaps(at, at)
    assert not instant.overlaps(at + 1, None)
    assert not instant.overlaps(None, at - 1)


@pytest.mark.parametrize(
    ("filter_", "matches"),
    [
        ("2019", True),
        ("2019-10", True),
        ("2019-10-31", True),
        ("2019-10-01", True),
        ("2019-10-15T12:00:00Z", True),
        ("2019-11", False),
        ("2019-09", False),
        ("2019-09-30", False),
        ("2019-11-01", False),
        ("2020", False),
    ],
)
def test_a_month_overlaps_filters_of_every_precision(filter_: str, matches: bool) -> None:
    target = PartialDate.parse(filter_)
    assert PartialDate.parse("2019-10").overlaps(target.start, target.end) is matches


def test_dates_sort_by_start_then_end() -> None:
    texts = ["2019-10-15", "2020", "2019-10", "2019", "2019-10-01T00:00:00Z", "2018-12-31"]
    ordered = [d.text for d in sorted(PartialDate.parse(t) for t in texts)]
    assert ordered == [
        "2018-12-31",
        "2019",
        "2019-10-01T00:00:00Z",
        "2019-10",
        "2019-10-15",
        "2020",
    ]


# --- DateRange ---------------------------------------------------------------------------


def test_between_is_inclusive_at_each_ends_own_precision() -> None:
    assert DateRange.between("2019-06", "2020-03") == DateRange(ts(2019, 6), day_end(2020, 3, 31))
    assert DateRange.between("2019", "2019") == DateRange(ts(2019), day_end(2019, 12, 31))
    assert DateRange.between("2019-10-20", "2019-10-20") == DateRange(
        ts(2019, 10, 20), day_end(2019, 10, 20)
    )
    assert DateRange.between("2020-02", "2020-02") == DateRange(ts(2020, 2), day_end(2020, 2, 29))
    assert DateRange.between("2019-10-15T10:00:00+02:00", "2019-10-15T12:00:00Z") == DateRange(
        ts(2019, 10, 15, 8), ts(2019, 10, 15, 12)
    )


def test_between_with_open_ends() -> None:
    assert DateRange.between("2019-10-20", None) == DateRange(ts(2019, 10, 20), None)
    assert DateRange.between(None, "2019-09") == DateRange(None, day_end(2019, 9, 30))
    assert DateRange.between(None, None) == DateRange(None, None)
    assert DateRange.between(None, None).is_open()
    assert not DateRange.between("2019", None).is_open()
    assert not DateRange.between(None, "2019").is_open()


def test_between_raises_for_a_bad_end() -> None:
    with pytest.raises(DateError, match="'2019-13'"):
        DateRange.between("2019-13", None)
    with pytest.raises(DateError, match="'abc'"):
        DateRange.between("2019", "abc")


@pytest.mark.parametrize(
    ("first", "last", "matches"),
    [
        # DESIGN section 3: the seed article dated 2019-10.
        ("2019", "2019", True),
        ("2019-10", "2019-10", True),
        ("2019-06", "2020-03", True),
        ("2019-10-20", None, True),
        ("2019-10-31", None, True),
        (None, "2019-10-01", True),
        ("2019-11", "2019-11", False),
        (None, "2019-09", False),
        ("2019-11-01", None, False),
        (None, "2019-09-30T23:59:59Z", False),
        ("2019-11-01T00:00:00+01:00", None, True),  # 2019-10-31T23:00 UTC
    ],
)
def test_design_examples(first: str | None, last: str | None, matches: bool) -> None:
    window = DateRange.between(first, last)
    assert PartialDate.parse("2019-10").overlaps(window.low, window.high) is matches


def test_intersect() -> None:
    a = DateRange.between("2019-01", "2019-06")
    b = DateRange.between("2019-04", "2019-12")
    assert a.intersect(b) == DateRange(ts(2019, 4), day_end(2019, 6, 30))
    assert b.intersect(a) == a.intersect(b)
    assert a.intersect(DateRange()) == a
    assert DateRange().intersect(DateRange()) == DateRange()
    assert DateRange(ts(2019), None).intersect(DateRange(None, ts(2020))) == DateRange(
        ts(2019), ts(2020)
    )
    assert DateRange(ts(2019), None).intersect(DateRange(ts(2018), None)) == DateRange(
        ts(2019), None
    )


def test_disjoint_ranges_intersect_to_what_both_filters_match() -> None:
    # Both filters on their own match a document dated 2019 (it overlaps each), so their
    # intersection must too, even though the two ranges share no second.
    spring = DateRange.between("2019-01", "2019-03")
    summer = DateRange.between("2019-06", "2019-08")
    both = spring.intersect(summer)
    year = PartialDate.parse("2019")
    assert year.overlaps(both.low, both.high)
    assert not PartialDate.parse("2019-02").overlaps(both.low, both.high)
    assert not PartialDate.parse("2019-07").overlaps(both.low, both.high)


_bound = st.one_of(st.none(), st.integers(-(10**6), 10**6))


@given(
    start=st.integers(-(10**6), 10**6),
    length=st.integers(0, 10**5),
    a=st.tuples(_bound, _bound),
    b=st.tuples(_bound, _bound),
)
def test_intersect_matches_exactly_what_both_ranges_match(
    start: int, length: int, a: tuple[int | None, int | None], b: tuple[int | None, int | None]
) -> None:
    date = PartialDate(start, start + length, "x")
    first, second = DateRange(*a), DateRange(*b)
    both = first.intersect(second)
    assert date.overlaps(both.low, both.high) == (
        date.overlaps(first.low, first.high) and date.overlaps(second.low, second.high)
    )


# --- relative dates -------------------------------------------------------------------------

NOW = datetime(2024, 3, 31, 15, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("now", "2024-03-31"),
        ("now-0d", "2024-03-31"),
        ("now-1d", "2024-03-30"),
        ("now-30d", "2024-03-01"),
        ("now-31d", "2024-02-29"),
        ("now-2w", "2024-03-17"),
        ("now-1m", "2024-02-29"),  # no February 31st: the month's last day
        ("now-13m", "2023-02-28"),
        ("now-6m", "2023-09-30"),
        ("now-12m", "2023-03-31"),
        ("now-1y", "2023-03-31"),
        ("now-2023y", "0001-03-31"),
        (" now-1y ", "2023-03-31"),
    ],
)
def test_relative_dates_are_utc_days_counted_back(text: str, day: str) -> None:
    found = resolve(text, NOW)
    assert found == PartialDate.parse(day)
    assert (found.start, found.end) == (ts(*map(int, day.split("-"))), found.start + DAY - 1)


def test_a_leap_day_a_year_back_is_the_last_of_february() -> None:
    leap = datetime(2024, 2, 29, tzinfo=timezone.utc)
    assert str(resolve("now-1y", leap)) == "2023-02-28"
    assert str(resolve("now-4y", leap)) == "2020-02-29"
    assert str(resolve("now-1m", datetime(2024, 5, 31))) == "2024-04-30"


def test_the_clock_is_read_in_utc() -> None:
    # 01:30 in Tokyo on April 1st is still March 31st in UTC; a naive clock is UTC.
    tokyo = datetime(2024, 4, 1, 1, 30, tzinfo=timezone(timedelta(hours=9)))
    assert str(resolve("now", tokyo)) == "2024-03-31"
    assert str(resolve("now", datetime(2024, 4, 1, 1, 30))) == "2024-04-01"
    assert utc(datetime(2024, 4, 1)) == datetime(2024, 4, 1, tzinfo=timezone.utc)


def test_without_a_clock_now_is_today() -> None:
    before = datetime.now(timezone.utc).date()
    found = resolve("now")
    assert str(found) in {before.isoformat(), datetime.now(timezone.utc).date().isoformat()}


def test_the_shorthand_is_for_options_only() -> None:
    assert resolve("-7d", NOW, shorthand=True) == resolve("now-7d", NOW)
    assert resolve("2019-10", NOW, shorthand=True) == PartialDate.parse("2019-10")
    with pytest.raises(DateError) as caught:
        resolve("-7d", NOW)
    assert str(caught.value) == "not a date: '-7d' (write now-7d in a query)"


def test_between_resolves_relative_ends() -> None:
    assert DateRange.between("now-1y", "now", NOW) == DateRange(
        ts(2023, 3, 31), day_end(2024, 3, 31)
    )
    assert DateRange.between("-2w", None, NOW, shorthand=True) == DateRange(ts(2024, 3, 17), None)


RELATIVE_FORMS = "(expected now, now-30d, now-2w, now-6m or now-1y)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("now-5x", f"not a relative date: 'now-5x' {RELATIVE_FORMS}"),
        ("now+", f"not a relative date: 'now+' {RELATIVE_FORMS}"),
        ("now+1d", f"not a relative date: 'now+1d' {RELATIVE_FORMS}"),
        ("now-", f"not a relative date: 'now-' {RELATIVE_FORMS}"),
        ("now-d", f"not a relative date: 'now-d' {RELATIVE_FORMS}"),
        ("now-1.5d", f"not a relative date: 'now-1.5d' {RELATIVE_FORMS}"),
        ("now - 1d", f"not a relative date: 'now - 1d' {RELATIVE_FORMS}"),
        ("nowadays", f"not a relative date: 'nowadays' {RELATIVE_FORMS}"),
        ("now-2025y", "relative date too far back: 'now-2025y' (before the year 1)"),
        ("now-999999999d", "relative date too far back: 'now-999999999d' (before the year 1)"),
        (
            "now-" + "9" * 5000 + "d",
            f"relative date too far back: {'now-' + '9' * 5000 + 'd'!r} (before the year 1)",
        ),
        (
            "yesterday",
            "not a date: 'yesterday' (expected YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp, "
            "or now, now-30d, now-2w, now-6m or now-1y)",
        ),
        ("2019-13", "impossible date: '2019-13' (month 13)"),
    ],
)
def test_bad_relative_dates(text: str, reason: str) -> None:
    with pytest.raises(DateError) as caught:
        resolve(text, NOW, shorthand=True)
    assert str(caught.value) == reason


def test_relative_from_and_to_on_the_command_line(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "articles.jsonl", ARTICLES)
    index = str(tmp_path / "ix")
    assert CliRunner().invoke(main, ["index", str(source), "--index", index]).exit_code == 0

    def total(*args: str) -> int:
        result = CliRunner().invoke(main, ["query", "NOT zebra", "--index", index, "--json", *args])
        assert result.exit_code == 0, result.output
        return int(json.loads(result.stdout)["total"])

    assert total() == 8
    assert total("--from", "-7d") == 0  # every article is years old
    assert total("--from", "-100y") == total("--from=now-100y") == 7  # not the undated one
    assert total("--to", "now") == 7
    assert total("--to", "-1d", "--from", "2019-11") == 4
    for bad, reason in [
        (
            "-5x",
            "not a date: '-5x' (expected YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp, or "
            "now, now-30d, now-2w, now-6m or now-1y)",
        ),
        ("now+1d", f"not a relative date: 'now+1d' {RELATIVE_FORMS}"),
    ]:
        result = CliRunner().invoke(main, ["query", "plan", "--index", index, "--from", bad])
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '--from': {reason}"
