"""A due date to type into a `saydo run` that runs on the real clock, whatever day the tests run.

12 December of next year: always ahead (and within Saydo's two-year limit), and in winter in
every time zone the tests use, so no daylight saving time shifts its end of day.
"""

from __future__ import annotations

from datetime import date

from storage import clock

DUE = date(clock.now().year + 1, 12, 12)
BY_DUE = f"by {DUE.day} {DUE:%b %Y}"  # as typed: "by 12 Dec 2027"
SHOWN = f"{DUE:%a} {DUE.day} {DUE:%b %Y}"  # as Saydo writes it: "Sun 12 Dec 2027"
