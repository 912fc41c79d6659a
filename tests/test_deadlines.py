"""Working-day deadlines (行政许可法 Art. 42/45/82).

Every expectation below was counted by hand against the State Council holiday notices as shipped in
chinesecalendar 1.11.0:

* 2025 Spring Festival: Jan 28 (Tue) – Feb 4 (Tue) off; make-up workdays Sun Jan 26 and Sat Feb 8.
* 2025 National Day + Mid-Autumn: Oct 1 (Wed) – Oct 8 (Wed) off; make-up workdays Sun Sep 28, Sat Oct 11.
* 2026 New Year: Jan 1 (Thu) – Jan 3 (Sat) off; make-up workday Sun Jan 4.
* 2026 Spring Festival: Feb 15 (Sun) – Feb 23 (Mon) off; make-up workdays Sat Feb 14 and Sat Feb 28.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from window_terminal.core.deadlines import Deadline, WorkCalendar, light, package_year_range

D = date.fromisoformat
CAL = WorkCalendar()


@pytest.fixture(autouse=True)
def _nothing_remembered_from_another_test() -> None:
    """The calendar memoises its deadlines and years; a result computed by an earlier test must not
    stand in for this test's own computation (mutation testing forks after the first run)."""
    CAL._add_cached.cache_clear()
    CAL._years.clear()


def test_package_years_cover_2025_and_2026_so_current_deadlines_are_not_marked_provisional() -> None:
    years = package_year_range()
    assert 2025 in years and 2026 in years
    assert 2031 not in years
    assert CAL.known_years == years


@pytest.mark.parametrize(
    ("day", "works"),
    [
        ("2025-09-28", True),  # Sunday make-up workday before National Day
        ("2025-10-01", False),
        ("2025-10-08", False),  # Wednesday, still holiday
        ("2025-10-11", True),  # Saturday make-up workday
        ("2026-01-04", True),  # Sunday make-up workday after New Year
        ("2026-02-14", True),  # Saturday make-up workday before Spring Festival
        ("2026-02-23", False),  # Monday, last day of the 2026 Spring Festival holiday
        ("2026-02-28", True),  # Saturday make-up workday after Spring Festival
        ("2025-03-08", False),  # ordinary Saturday
        ("2025-03-10", True),  # ordinary Monday
    ],
)
def test_make_up_saturdays_and_sundays_are_workdays_and_holiday_weekdays_are_not(
    day: str, works: bool
) -> None:
    assert CAL.is_workday(D(day)) is works


@pytest.mark.parametrize(
    ("accepted", "days", "due"),
    [
        # National Day 2025
        ("2025-09-30", 3, "2025-10-11"),  # Oct 9, Oct 10, Sat Oct 11 (make-up)
        ("2025-09-30", 4, "2025-10-13"),
        ("2025-09-26", 1, "2025-09-28"),  # Friday acceptance, Sunday make-up day counts
        ("2025-09-26", 4, "2025-10-09"),  # Sep 28, 29, 30, then Oct 9
        ("2025-09-15", 20, "2025-10-17"),  # statutory 20 days across the holiday
        # Spring Festival 2025
        ("2025-01-24", 1, "2025-01-26"),  # Sunday make-up day
        ("2025-01-24", 3, "2025-02-05"),  # Jan 26, Jan 27, Feb 5
        ("2025-01-27", 1, "2025-02-05"),
        ("2025-02-05", 3, "2025-02-08"),  # Feb 6, 7, Sat Feb 8 (make-up)
        # Spring Festival 2026
        ("2026-02-13", 1, "2026-02-14"),  # Saturday make-up day
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-12", 3, "2026-02-24"),  # Feb 13, Feb 14, Feb 24
        ("2026-02-24", 4, "2026-02-28"),  # Feb 25, 26, 27, Sat Feb 28 (make-up)
        ("2026-02-24", 5, "2026-03-02"),
        # Year end 2025 -> 2026
        ("2025-12-31", 1, "2026-01-04"),  # Sunday make-up day after the New Year holiday
        ("2025-12-31", 2, "2026-01-05"),
        ("2025-12-30", 3, "2026-01-05"),  # Dec 31, Jan 4, Jan 5
    ],
)
def test_deadline_skips_statutory_holidays_and_counts_make_up_days(
    accepted: str, days: int, due: str
) -> None:
    assert CAL.add_working_days(D(accepted), days) == Deadline(D(due), provisional=False)


@pytest.mark.parametrize(
    ("accepted", "days", "due"),
    [
        ("2025-03-07", 1, "2025-03-10"),  # accepted Friday: next working day is Monday
        ("2025-03-07", 5, "2025-03-14"),
        ("2025-03-07", 6, "2025-03-17"),
        ("2025-03-03", 4, "2025-03-07"),  # Monday + 4 = Friday, never the weekend
        ("2025-03-03", 5, "2025-03-10"),  # would be Saturday by calendar days: lands on Monday
    ],
)
def test_acceptance_day_is_not_counted_and_deadline_lands_after_the_weekend(
    accepted: str, days: int, due: str
) -> None:
    assert CAL.add_working_days(D(accepted), days).date == D(due)


@pytest.mark.parametrize(
    ("accepted", "days", "due"),
    [
        ("2025-10-03", 1, "2025-10-09"),  # accepted on a National Day holiday (Friday)
        ("2025-10-01", 3, "2025-10-11"),
        ("2025-03-08", 1, "2025-03-10"),  # accepted on an ordinary Saturday
        ("2026-01-01", 1, "2026-01-04"),  # accepted on New Year's Day
    ],
)
def test_acceptance_on_a_holiday_counts_from_the_next_working_day(accepted: str, days: int, due: str) -> None:
    assert CAL.add_working_days(D(accepted), days).date == D(due)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-10-01", "2025-10-09"),
        ("2025-10-11", "2025-10-11"),  # a make-up Saturday is itself a workday
        ("2025-03-10", "2025-03-10"),
        ("2025-03-08", "2025-03-10"),
        ("2026-01-01", "2026-01-04"),
    ],
)
def test_next_workday_moves_a_holiday_date_forward_and_keeps_a_workday(day: str, expected: str) -> None:
    assert CAL.next_workday(D(day)) == D(expected)


def test_on_the_spot_item_with_zero_days_is_due_the_same_working_day() -> None:
    assert CAL.add_working_days(D("2025-03-10"), 0) == Deadline(D("2025-03-10"), False)
    assert CAL.add_working_days(D("2025-10-01"), 0) == Deadline(D("2025-10-09"), False)


def test_negative_time_limit_is_rejected_instead_of_giving_a_date_in_the_past() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(D("2025-03-10"), -1)


# Accepted Mon 2025-03-03, 5 working days: Mar 4, 5, 6, 7, 10 without suspension.
@pytest.mark.parametrize(
    ("suspensions", "due"),
    [
        ([], "2025-03-10"),
        ([("2025-03-05", "2025-03-06")], "2025-03-12"),  # two working days suspended
        ([("2025-03-08", "2025-03-09")], "2025-03-10"),  # a weekend-only suspension changes nothing
        ([("2025-02-20", "2025-03-04")], "2025-03-11"),  # started before acceptance: only Mar 4 skipped
        ([("2025-03-05", "2025-03-06"), ("2025-03-06", "2025-03-07")], "2025-03-13"),  # overlapping
        ([("2025-03-07", "2025-03-07"), ("2025-03-05", "2025-03-05")], "2025-03-12"),  # unordered
        ([("2025-03-20", "2025-03-25")], "2025-03-10"),  # after the deadline: no effect
        ([("2025-03-06", "2025-03-05")], "2025-03-10"),  # end before start: ignored
    ],
)
def test_suspended_working_days_do_not_count_against_the_time_limit(
    suspensions: list[tuple[str, str]], due: str
) -> None:
    spans = [(D(a), D(b)) for a, b in suspensions]
    assert CAL.add_working_days(D("2025-03-03"), 5, suspensions=spans).date == D(due)


def test_suspension_over_the_national_day_holiday_only_skips_its_working_days() -> None:
    # Accepted Sep 26; suspended Sep 29 .. Oct 10: skips Sep 29, 30, Oct 9, 10.
    # Counted: Sep 28 (1), Oct 11 (2), Oct 13 (3).
    due = CAL.add_working_days(D("2025-09-26"), 3, suspensions=[(D("2025-09-29"), D("2025-10-10"))])
    assert due == Deadline(D("2025-10-13"), False)


def test_open_suspension_keeps_the_clock_stopped_through_today() -> None:
    # Accepted Mon Mar 3, 5 days. Suspended since Wed Mar 5, still open on Wed Mar 12:
    # Mar 4 (1), then resumes Mar 13 (2), 14 (3), 17 (4), 18 (5).
    due = CAL.add_working_days(
        D("2025-03-03"), 5, suspensions=[(D("2025-03-05"), None)], today=D("2025-03-12")
    )
    assert due == Deadline(D("2025-03-18"), False)


def test_open_suspension_started_today_stops_at_least_today() -> None:
    # Suspended from Mar 5 with today = Mar 4 (clock skew / scheduled): Mar 5 is still skipped.
    due = CAL.add_working_days(
        D("2025-03-03"), 5, suspensions=[(D("2025-03-05"), None)], today=D("2025-03-04")
    )
    assert due.date == D("2025-03-11")


def test_open_suspension_without_today_uses_the_real_date_and_never_ends_before_it() -> None:
    # Mar 4 counted (1); suspended from Mar 5 through the real today; the other 4 come after today.
    due = CAL.add_working_days(D("2025-03-03"), 5, suspensions=[(D("2025-03-05"), None)])
    assert due.date == CAL.add_working_days(date.today(), 4).date  # (was: "some date after today")


@pytest.mark.parametrize(
    ("accepted", "days", "extension", "due"),
    [
        ("2025-09-15", 20, 10, "2025-10-31"),  # 20 days end Oct 17, +10 -> Oct 31
        ("2025-09-15", 20, 0, "2025-10-17"),
        ("2025-12-15", 20, 10, "2026-01-27"),  # across New Year 2026 (Jan 4 make-up counts)
    ],
)
def test_approved_extension_adds_ten_working_days(accepted: str, days: int, extension: int, due: str) -> None:
    assert CAL.add_working_days(D(accepted), days, extension_days=extension).date == D(due)


def test_extension_and_suspension_combine() -> None:
    # 2025-09-15 + 20 + 10 = Oct 31; suspending Oct 20..Oct 24 (5 working days) moves it to Nov 7.
    due = CAL.add_working_days(
        D("2025-09-15"), 20, extension_days=10, suspensions=[(D("2025-10-20"), D("2025-10-24"))]
    )
    assert due == Deadline(D("2025-11-07"), False)


# ---------------------------------------------------------------- years without package data


def test_year_without_holiday_data_counts_monday_to_friday_and_is_marked_provisional() -> None:
    assert not CAL.is_known(D("2031-01-01"))
    assert CAL.is_workday(D("2031-01-01"))  # Wednesday; New Year's Day unknown to the package
    assert CAL.add_working_days(D("2030-12-31"), 1) == Deadline(D("2031-01-01"), True)
    assert CAL.add_working_days(D("2031-01-03"), 1) == Deadline(D("2031-01-06"), True)  # Fri -> Mon


def test_deadline_running_into_an_unpublished_year_is_provisional() -> None:
    # Dec 31 2026 (1), then 2027 is unknown: Jan 1 (Fri) 2, Jan 4 3, Jan 5 4, Jan 6 5.
    assert CAL.add_working_days(D("2026-12-30"), 5) == Deadline(D("2027-01-06"), True)
    # Entirely inside 2026: not provisional.
    assert CAL.add_working_days(D("2026-12-29"), 2) == Deadline(D("2026-12-31"), False)


def test_hall_override_for_an_unpublished_year_is_respected() -> None:
    cal = WorkCalendar({D("2031-01-01"): False, D("2031-01-02"): True})
    assert cal.is_known(D("2031-01-01"))
    assert not cal.is_workday(D("2031-01-01"))
    # Jan 1 is off by override, Jan 2 works by override: everything used is known.
    assert cal.add_working_days(D("2030-12-31"), 1) == Deadline(D("2031-01-02"), False)
    assert cal.add_working_days(D("2031-01-01"), 1) == Deadline(D("2031-01-02"), False)
    # Jan 3 has no override: provisional again.
    assert cal.add_working_days(D("2031-01-01"), 2) == Deadline(D("2031-01-03"), True)


def test_hall_override_wins_over_the_package() -> None:
    cal = WorkCalendar({D("2025-10-09"): False, D("2025-10-08"): True})
    assert cal.is_workday(D("2025-10-08")) and not cal.is_workday(D("2025-10-09"))
    # Accepted Sep 30: Oct 8 (1), Oct 10 (2), Oct 11 (3).
    assert cal.add_working_days(D("2025-09-30"), 3) == Deadline(D("2025-10-11"), False)
    assert cal.add_working_days(D("2025-09-30"), 4) == Deadline(D("2025-10-13"), False)
    assert cal.working_days_between(D("2025-09-30"), D("2025-10-11")) == 3


@pytest.mark.parametrize(
    ("day", "due", "provisional"),
    [
        # Outside the package's years (2004-2026 in 1.11): Monday-Friday, 30 of them = 6 weeks on.
        (date.min, date(1, 2, 12), True),  # 0001-01-01 is a Monday
        (D("1900-01-01"), D("1900-02-12"), True),  # a Monday too
        (D("2100-06-15"), D("2100-07-27"), True),  # a Tuesday
        (D("2031-02-28"), D("2031-04-11"), True),  # a Friday
        (date.max, date.max, True),  # nothing after 9999-12-31
        # Into 2004, the package's first year: Jan 1 off; Sat Jan 17 and Sun Jan 18 worked for the
        # Spring Festival (Jan 22-28 off): Jan 2 (1), 5-9, 12-16 (11), 17, 18 (13), 19-21 (16),
        # 29, 30 (18), Feb 2-6, 9-13 (28), 16, Tue Feb 17 (30). Every counted day is known.
        (D("2003-12-31"), D("2004-02-17"), False),
    ],
)
def test_odd_or_far_away_dates_give_exact_deadlines(day: date, due: date, provisional: bool) -> None:
    # (was: "never crash", asserting only ``result.date >= day``)
    result = CAL.add_working_days(day, 20, extension_days=10, suspensions=[(day, None)], today=day)
    assert result == Deadline(due, provisional)
    assert CAL.is_known(day) is (day.year in package_year_range())
    assert CAL.is_workday(day) and CAL.next_workday(day) == day  # each of these is a weekday


def test_deadline_beyond_year_9999_is_reported_as_the_last_date_and_provisional() -> None:
    assert CAL.add_working_days(D("9999-12-30"), 5) == Deadline(date.max, True)


def test_datetime_values_are_treated_as_their_calendar_day() -> None:
    cal = WorkCalendar({datetime(2025, 10, 9, 8, 30): False})
    assert not cal.is_workday(D("2025-10-09"))
    assert CAL.add_working_days(datetime(2025, 9, 30, 16, 45), 3).date == D("2025-10-11")


# ---------------------------------------------------------------- counting between dates


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-09-30", "2025-10-11", 3),
        ("2025-10-11", "2025-09-30", -3),
        ("2025-09-30", "2025-09-30", 0),
        ("2025-03-07", "2025-03-09", 0),  # Friday to Sunday: no working day in between
        ("2025-03-07", "2025-03-10", 1),
        ("2025-12-31", "2026-01-05", 2),
        ("2030-12-31", "2031-01-07", 5),  # unknown year: Mon-Fri
    ],
)
def test_working_days_between_counts_after_start_up_to_end(start: str, end: str, expected: int) -> None:
    assert CAL.working_days_between(D(start), D(end)) == expected


def test_working_days_in_2025_match_the_hand_count() -> None:
    # 261 weekdays - 18 weekday holidays (New Year 1, Spring 6, Qingming 1, Labour 3, Dragon Boat 1,
    # National Day 6) + 5 make-up weekend days (Jan 26, Feb 8, Apr 27, Sep 28, Oct 11) = 248.
    assert CAL.working_days_between(D("2024-12-31"), D("2025-12-31")) == 248


@pytest.mark.parametrize(
    ("today", "deadline", "expected"),
    [
        ("2025-10-09", "2025-10-11", 2),
        ("2025-10-01", "2025-10-11", 3),  # during the holiday: Oct 9, 10, 11 left
        ("2025-10-11", "2025-10-11", 0),  # the deadline day itself
        ("2025-10-12", "2025-10-11", -1),  # the Sunday after: already overdue
        ("2025-10-13", "2025-10-11", -1),
        ("2025-10-14", "2025-10-11", -2),
        ("2025-03-08", "2025-03-07", -1),  # Saturday after a Friday deadline
        ("2025-03-10", "2025-03-07", -1),
    ],
)
def test_remaining_working_days_is_zero_on_the_deadline_and_negative_once_overdue(
    today: str, deadline: str, expected: int
) -> None:
    assert CAL.remaining_working_days(D(today), D(deadline)) == expected


@pytest.mark.parametrize(
    ("remaining", "yellow_days", "expected"),
    [
        (-1, 3, "red"),
        (-30, 3, "red"),
        (0, 3, "yellow"),  # due today
        (3, 3, "yellow"),
        (4, 3, "green"),
        (0, 0, "yellow"),
        (1, 0, "green"),
    ],
)
def test_supervision_light_turns_yellow_near_and_red_after_the_deadline(
    remaining: int, yellow_days: int, expected: str
) -> None:
    assert light(remaining, yellow_days) == expected


def test_light_for_the_sunday_after_a_saturday_make_up_deadline_is_red() -> None:
    assert light(CAL.remaining_working_days(D("2025-10-12"), D("2025-10-11")), 3) == "red"


def _naive_deadline(cal: WorkCalendar, start: date, days: int, suspended: list[tuple[date, date]]) -> date:
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if cal.is_workday(day) and not any(a <= day <= b for a, b in suspended):
            counted += 1
    return day


def test_fast_counting_agrees_with_counting_day_by_day() -> None:
    import random

    rng = random.Random(82)
    cal = WorkCalendar({D("2027-01-01"): False, D("2026-12-31"): False, D("2025-05-05"): True})
    for _ in range(500):
        start = D("2024-11-01") + timedelta(days=rng.randrange(900))
        days = rng.randrange(0, 45)
        suspended = []
        for _ in range(rng.randrange(3)):
            a = start + timedelta(days=rng.randrange(-5, 40))
            suspended.append((a, a + timedelta(days=rng.randrange(0, 15))))
        expected = _naive_deadline(cal, start, days, suspended) if days else cal.next_workday(start)
        got = cal.add_working_days(start, days, suspensions=suspended)
        assert got.date == expected
        if days and not suspended:
            assert cal.working_days_between(start, got.date) == days


# --- exact counts where only the arithmetic can be wrong (found by mutation testing, issue 20) --------


def test_package_years_end_where_the_package_data_ends() -> None:
    import chinese_calendar

    from window_terminal.core import workdays

    years = workdays._compute_package_years()
    assert years.start == 2004 and years.step == 1 and 2026 in years
    chinese_calendar.is_workday(date(years.stop - 1, 6, 1))  # the last year is known to the package
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(years.stop, 6, 1))  # the next is not


def test_plain_weekday_years_are_counted_exactly() -> None:
    # 2031 starts on a Wednesday: 52 weeks + 1 day = 261 weekdays; 2032 (leap) on a Thursday: 262.
    assert CAL.working_days_between(D("2030-12-31"), D("2031-12-31")) == 261
    assert CAL.working_days_between(D("2030-12-31"), D("2032-12-31")) == 523
    assert CAL.working_days_between(D("2031-01-01"), D("2031-01-31")) == 22
    # every span inside a plain year against a day-by-day count (all residues of the week)
    start = D("2031-03-02")
    for lo in range(7):
        for length in range(15):
            a = start + timedelta(days=lo)
            b = a + timedelta(days=length)
            by_hand = sum((a + timedelta(days=i)).weekday() < 5 for i in range(1, length + 1))
            assert CAL.working_days_between(a, b) == by_hand, (a, b)


def test_counting_backwards_starts_the_day_after_the_earlier_date() -> None:
    # Mon Mar 9 .. Wed Mar 11 2026: Tue and Wed lie after the Monday
    assert CAL.working_days_between(D("2026-03-11"), D("2026-03-09")) == -2
    assert CAL.working_days_between(D("2026-03-09"), D("2026-03-11")) == 2
    assert CAL.remaining_working_days(D("2026-03-11"), D("2026-03-09")) == -2


def test_overlapping_and_adjacent_suspensions_are_merged() -> None:
    from window_terminal.core.workdays import _merge

    assert _merge([(7, 9), (1, 2), (3, 4), (9, 12), (20, 21)]) == ((1, 4), (7, 12), (20, 21))
    assert _merge([]) == ()


def test_the_last_year_of_the_calendar_is_searched_too() -> None:
    assert CAL.add_working_days(D("9999-12-01"), 1) == Deadline(D("9999-12-02"), True)
    assert CAL.add_working_days(date.max, 1) == Deadline(date.max, True)  # nothing after it
    closed = WorkCalendar({date.max: False})
    assert closed.next_workday(date.max) == date.max  # none found: date.max, not a crash


def test_an_override_on_december_31_of_an_unpublished_year_makes_that_day_known() -> None:
    cal = WorkCalendar({D("2031-12-31"): True})
    assert cal.add_working_days(D("2031-12-30"), 1) == Deadline(D("2031-12-31"), False)
    assert cal.add_working_days(D("2031-12-29"), 2) == Deadline(D("2031-12-31"), True)  # Dec 30 guessed
    both = WorkCalendar({D("2031-12-30"): True, D("2031-12-31"): True})
    assert both.add_working_days(D("2031-12-29"), 2) == Deadline(D("2031-12-31"), False)


def test_an_on_the_spot_item_in_an_unpublished_year_is_provisional() -> None:
    assert CAL.add_working_days(D("2031-01-03"), 0) == Deadline(D("2031-01-03"), True)  # a Friday
    assert CAL.add_working_days(D("2031-01-04"), 0) == Deadline(D("2031-01-06"), True)  # Sat → Mon
    assert CAL.add_working_days(D("2026-01-03"), 0) == Deadline(D("2026-01-04"), False)  # Sun works


def test_package_days_are_known_without_an_override() -> None:
    assert CAL.is_known(D("2026-05-01")) and CAL.is_known(D("2004-01-01"))
    assert not CAL.is_known(D("2003-12-31"))


def test_bad_input_says_what_is_wrong() -> None:
    with pytest.raises(TypeError, match="must be a date, got '2026-01-01'"):
        WorkCalendar({"2026-01-01": False})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"must not be negative: 5 \+ -6 working days"):
        CAL.add_working_days(D("2026-03-02"), 5, extension_days=-6)


def test_the_hall_calendar_reads_the_halls_own_overrides(engine, hall) -> None:
    from window_terminal.core.workdays import hall_calendar
    from window_terminal.db.engine import read_session, write_session
    from window_terminal.db.models import CalendarOverride

    with write_session(engine) as s:
        s.add(CalendarOverride(hall_id=hall.id, day=D("2026-03-07"), workday=True))  # a Saturday
        s.add(CalendarOverride(hall_id=hall.id, day=D("2026-03-09"), workday=False))  # a Monday
    with read_session(engine) as s:
        cal = hall_calendar(s, hall.id)
    assert cal.is_workday(D("2026-03-07")) and not cal.is_workday(D("2026-03-09"))
    assert cal.add_working_days(D("2026-03-06"), 2) == Deadline(D("2026-03-10"), False)


def test_a_guessed_day_in_an_earlier_year_keeps_the_deadline_provisional() -> None:
    # Tue Dec 31 2030 is a guess; Jan 1 and Jan 2 2031 are known by override: still provisional.
    cal = WorkCalendar({D("2031-01-01"): False, D("2031-01-02"): True})
    assert cal.add_working_days(D("2030-12-30"), 2) == Deadline(D("2031-01-02"), True)
