from __future__ import annotations

import datetime as dt

import pytest

from voc.backfill import BackfillLedger, daily_chunks
from voc.errors import ConfigError


def test_daily_chunks_cover_the_range_inclusively():
    assert daily_chunks(dt.date(2026, 10, 30), dt.date(2026, 11, 1)) == [
        dt.date(2026, 10, 30),
        dt.date(2026, 10, 31),
        dt.date(2026, 11, 1),
    ]
    with pytest.raises(ConfigError, match="end 2026-10-01 is before start 2026-10-02"):
        daily_chunks(dt.date(2026, 10, 2), dt.date(2026, 10, 1))


def test_ledger_remembers_finished_days_per_set_of_sources(tmp_path):
    ledger = BackfillLedger(tmp_path)
    key = BackfillLedger.key(("b.csv", "a.csv"))
    assert key == "a.csv,b.csv" and BackfillLedger.key(None) == "*"
    assert ledger.done(key) == set()
    ledger.mark(key, dt.date(2026, 11, 2))
    ledger.mark(key, dt.date(2026, 11, 1))
    again = BackfillLedger(tmp_path)  # a later process reads what the first wrote
    assert again.done(key) == {dt.date(2026, 11, 1), dt.date(2026, 11, 2)}
    assert again.done("*") == set()
    assert not list(tmp_path.glob("*.partial"))
