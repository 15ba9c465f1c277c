#!/usr/bin/env bash
# The date-sensitive tests, run with the clock pinned at instants where calendars bite: a
# Tuesday, New Year's Eve, both European daylight saving changes and 29 February.
# faketime(1) (Debian package `faketime`, libfaketime) fakes the clock of pytest and of every
# process it starts (`saydo run`, the playground, Chromium), starting at the instant and running
# on from there. PostgreSQL, not started by the tests, keeps the real clock; Saydo reads its
# own clock (storage.clock) for every instant it stores or compares, so that does not matter.
# Usage: tests/calendar_check.sh [PYTHON]   (default .venv/bin/python); fails on any failure.
set -euo pipefail

python="${1:-.venv/bin/python}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=(
  tests/test_e2e_commitments.py
  tests/test_e2e_members.py
  tests/test_playground.py
  tests/test_playground_browser.py
)
instants=(
  "2027-06-15 10:00:00"  # a Tuesday ("by Tuesday" is today)
  "2027-12-31 23:30:00"  # New Year's Eve, half an hour before the year changes
  "2027-03-28 00:30:00"  # Europe's clocks go forward at 01:00 UTC
  "2027-10-31 00:30:00"  # Europe's clocks go back at 01:00 UTC
  "2028-02-29 12:00:00"  # a leap day
)
command -v faketime >/dev/null || { echo "faketime is missing: apt-get install faketime" >&2; exit 1; }
for instant in "${instants[@]}"; do
  echo "== the date-sensitive tests at $instant UTC"
  TZ=UTC faketime "$instant" "$python" -m pytest -n 2 -q "${files[@]}"
done
