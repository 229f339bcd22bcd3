"""Which rows a run works on: an ad hoc scope, and the nightly watermark.

Both the command line and the Prefect flows narrow a run the same way, with the
plain functions here:

- :class:`RunScope` — products, a date range, sources, categories, and whether to
  skip what the store already holds (the nightly watermark). Validated up front;
  every problem is reported at once, naming the parameter.
- :func:`apply_scope` — documents outside the products or dates are left for another
  run: they are not counted as read by this one (the summary reports how many).
- :func:`skip_published` — the watermark: rows at or before the newest time a source
  already published, whose document is in the store, are counted as duplicates
  before the (costly) cleaning. A late row (old time, never published) is still
  processed, so a watermark never loses a row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from voc.clean import PUBLISHED_REASON
from voc.config import SourceConfig, VocConfig, format_validation_error
from voc.errors import ConfigError
from voc.sources import IngestResult

log = logging.getLogger(__name__)


class RunScope(BaseModel):
    """What one run covers. The default scope is everything in the configured sources.

    Attributes:
        products: Only documents of these products (``None``: all).
        start: Only documents dated on or after this day.
        end: Only documents dated on or before this day.
        sources: Only these configured sources, by name (``None``: all).
        categories: The categories the run reports on (summary and artifacts).
        since_watermark: Skip rows the store already published, cheaply (nightly).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    products: tuple[str, ...] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    sources: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    since_watermark: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> RunScope:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        for name in ("products", "sources", "categories"):
            value = getattr(self, name)
            if value is not None and not value:
                raise ValueError(f"{name}: give at least one value, or leave it out for all")
        return self

    @property
    def is_everything(self) -> bool:
        return self.products is None and self.start is None and self.end is None


def parse_scope(where: str, **parameters: object) -> RunScope:
    """Validate run parameters into a :class:`RunScope`.

    Args:
        where: What the parameters came from, for the message (``adhoc parameters``).
        parameters: The fields of :class:`RunScope`.

    Raises:
        ConfigError: every problem at once, each naming its parameter.
    """
    try:
        return RunScope.model_validate(parameters)
    except ValidationError as exc:
        raise ConfigError(where, format_validation_error(exc)) from exc


def check_scope(scope: RunScope, config: VocConfig, categories: Iterable[str], where: str) -> None:
    """Check the scope's sources and categories against the config and the taxonomy.

    Raises:
        ConfigError: naming each unknown source or category and the known ones.
    """
    problems = []
    known_sources = [s.source_name for s in config.sources]
    unknown = [s for s in scope.sources or () if s not in known_sources]
    if unknown:
        problems.append(f"sources: unknown {unknown}; configured sources are {known_sources}")
    known_categories = list(categories)
    unknown = [c for c in scope.categories or () if c not in known_categories]
    if unknown:
        problems.append(f"categories: unknown {unknown}; the taxonomy has {known_categories}")
    if problems:
        raise ConfigError(where, problems)


def select_sources(
    sources: tuple[SourceConfig, ...], names: tuple[str, ...] | None
) -> tuple[SourceConfig, ...]:
    """The configured sources named in ``names`` (all when ``None``), in config order."""
    if names is None:
        return sources
    return tuple(s for s in sources if s.source_name in names)


def document_dates(records: pd.DataFrame, today: dt.date) -> pd.Series:
    """Per record, the day its document counts for: its first time, else ``today``."""
    first = pd.to_datetime(records.groupby("doc_id")["created_at"].transform("min"))
    return first.dt.date.where(first.notna(), today)


def apply_scope(
    ingested: IngestResult, scope: RunScope, today: dt.date
) -> tuple[IngestResult, dict[str, int]]:
    """Keep the documents inside the scope's products and dates.

    Whole documents are kept or left out (a chat's turns stay together). Rows left
    out are not read by this run: ``rows_read`` drops by their number, so the row
    accounting still holds, and they are reported per source. Quarantined rows are
    always kept: a row that cannot be read has no trustworthy product or date.

    Returns:
        ``(the narrowed result, rows left out per source)``.
    """
    records = ingested.records
    if scope.is_everything or records.empty:
        return ingested, {}
    keep = pd.Series(True, index=records.index)
    if scope.products is not None:
        product = records.groupby("doc_id")["product"].transform("first")
        keep &= product.isin(scope.products)
    dates = document_dates(records, today)
    if scope.start is not None:
        keep &= dates >= scope.start
    if scope.end is not None:
        keep &= dates <= scope.end
    left_out = records.loc[~keep].groupby("source").size()
    left_out_rows = {str(source): int(n) for source, n in left_out.items()}
    rows_read = {s: n - left_out_rows.get(s, 0) for s, n in ingested.rows_read.items()}
    log.info("scope: %d rows outside %s", int((~keep).sum()), scope)
    narrowed = IngestResult(
        records=records.loc[keep].reset_index(drop=True),
        quarantine=ingested.quarantine,
        rows_read=rows_read,
    )
    return narrowed, left_out_rows


def published_until(documents: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Per source, the newest document time the store holds (the nightly watermark)."""
    timed = documents.dropna(subset=["created_at"])
    if timed.empty:
        return {}
    newest = pd.to_datetime(timed["created_at"]).groupby(timed["source"]).max()
    return {str(source): stamp for source, stamp in newest.items()}


def skip_published(
    ingested: IngestResult, marks: dict[str, pd.Timestamp], known_doc_ids: Iterable[str]
) -> tuple[IngestResult, pd.DataFrame]:
    """Set aside rows at or before their source's watermark whose document is published.

    They are counted as duplicates (the reason :func:`voc.clean.clean_records` gives
    them), without being cleaned. Rows at or before the watermark whose document is
    *not* in the store arrived late: they are kept and logged. Chat turns are left to
    cleaning, which knows which turns of a published session are new.

    Returns:
        ``(the rows still to process, duplicates: source, file, row, doc_id, reason)``.
    """
    records = ingested.records
    if not marks or records.empty:
        return ingested, _no_duplicates()
    mark = records["source"].map(marks)
    old = pd.to_datetime(records["created_at"]).le(pd.to_datetime(mark)) & mark.notna()
    known = records["doc_id"].isin(set(known_doc_ids))
    late = old & ~known
    if late.any():
        log.warning(
            "%d rows are older than their source's watermark but were never published;"
            " processing them",
            int(late.sum()),
        )
    skip = old & known & (records["source_kind"] != "chat")
    duplicates = records.loc[skip, ["source", "file", "row", "doc_id"]].assign(
        reason=PUBLISHED_REASON
    )
    log.info("watermark: %d rows already published, skipped before cleaning", int(skip.sum()))
    rest = IngestResult(
        records=records.loc[~skip].reset_index(drop=True),
        quarantine=ingested.quarantine,
        rows_read=dict(ingested.rows_read),
    )
    return rest, duplicates.reset_index(drop=True)


def narrow(
    ingested: IngestResult, scope: RunScope, previous_documents: pd.DataFrame, today: dt.date
) -> tuple[IngestResult, pd.DataFrame, dict[str, int]]:
    """:func:`apply_scope`, then (for a ``since_watermark`` scope) :func:`skip_published`.

    Returns:
        ``(rows to process, rows set aside as already published, rows left out per source)``.
    """
    ingested, left_out = apply_scope(ingested, scope, today)
    if not scope.since_watermark:
        return ingested, _no_duplicates(), left_out
    marks = published_until(previous_documents)
    ingested, published = skip_published(ingested, marks, previous_documents["doc_id"])
    return ingested, published, left_out


def _no_duplicates() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=object) for c in ("source", "file", "row", "doc_id", "reason")}
    )
