"""Backfill: a date range in daily chunks, resumable.

Each day is one run scoped to that day, so a failure or a kill loses at most the day
being processed. :class:`BackfillLedger` records the days that finished, in
``OUT/backfill.json``, *after* their run has published: a day in the ledger is in the
store, and a day missing from it is simply run again (its documents, if a killed run
had published them, count as duplicates — nothing is published twice).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from voc.errors import ConfigError, StoreError


def daily_chunks(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from ``start`` to ``end``, both included.

    Raises:
        ConfigError: ``end`` is before ``start``.
    """
    if end < start:
        raise ConfigError("backfill parameters", [f"end {end} is before start {start}"])
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


class BackfillLedger:
    """The days a backfill has finished, per set of sources, kept beside the store.

    Args:
        out_dir: The output directory of the store being backfilled.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.path = Path(out_dir).resolve() / "backfill.json"

    @staticmethod
    def key(sources: tuple[str, ...] | None) -> str:
        """One ledger entry per set of sources (``*``: all configured sources)."""
        return ",".join(sorted(sources)) if sources else "*"

    def _read(self) -> dict[str, list[str]]:
        if not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{self.path}: cannot read the backfill ledger: {exc}") from exc

    def done(self, key: str) -> set[dt.date]:
        """The days already finished for ``key``."""
        return {dt.date.fromisoformat(day) for day in self._read().get(key, [])}

    def mark(self, key: str, day: dt.date) -> None:
        """Record ``day`` as finished; written to a temporary file and renamed (atomic)."""
        ledger = self._read()
        ledger[key] = sorted(set(ledger.get(key, [])) | {day.isoformat()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(ledger, indent=2), encoding="utf-8")
        os.replace(partial, self.path)
