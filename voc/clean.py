"""Clean records: normalise, simplify, strip noise and boilerplate, mask PII, dedupe.

The order matters: NFKC first (full-width digits must be half-width before the PII
patterns look for phone numbers), masking before anything is stored or logged.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import opencc
import pandas as pd

from voc.config import CleanConfig
from voc.pii import mask_pii
from voc.sources.ingest import QUARANTINE_COLUMNS, quarantine_row, stable_id

log = logging.getLogger(__name__)

_HTML_TAG = re.compile(r"<[^>]{0,200}>")
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u3000]+")
_REPEATS = re.compile(r"([!?！？。.~～…])\1{2,}")
# Why a record is a duplicate when an earlier run published it (voc.scope says the same).
PUBLISHED_REASON = "already published by an earlier run"
# Masking looks this far past the cut, so a cut cannot leave half a phone number or
# address that the patterns no longer recognise.
_MASK_MARGIN = 100
# Emoji carry sentiment; the common ones become words, the rest are dropped.
_EMOJI_WORDS = {
    "👍": "赞", "👎": "差", "😡": "生气", "😠": "生气", "😤": "生气", "😭": "难过",
    "😢": "难过", "😞": "失望", "💔": "失望", "❤": "喜欢", "❤️": "喜欢", "😍": "喜欢",
    "🥰": "喜欢", "😊": "开心", "😄": "开心", "😁": "开心", "🤮": "恶心", "💩": "垃圾",
}  # fmt: skip
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\ufe0f\u200d\u2b50\u2b06\u2194-\u21aa]"
)


@dataclass(frozen=True)
class TextCleaner:
    """Cleans one text at a time; build once per run (OpenCC loads its dictionaries)."""

    config: CleanConfig
    boilerplate: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Phrases are matched against normalised text, so normalise them the same way
        # (a full-width comma in the taxonomy would otherwise never match).
        phrases = {self.normalise(p) for p in self.boilerplate}
        ordered = tuple(sorted((p for p in phrases if p), key=len, reverse=True))
        object.__setattr__(self, "boilerplate", ordered)

    @cached_property
    def _converter(self) -> opencc.OpenCC:
        return opencc.OpenCC("t2s")

    def normalise(self, text: str) -> str:
        """NFKC, traditional -> simplified, markup/control/emoji noise, whitespace."""
        text = html.unescape(text)
        text = _HTML_TAG.sub(" ", text)
        text = unicodedata.normalize("NFKC", text)
        text = _CONTROL.sub("", text)
        for emoji, word in _EMOJI_WORDS.items():
            text = text.replace(emoji, f" {word} ")
        text = _EMOJI.sub("", text)
        if self.config.to_simplified:
            text = self._converter.convert(text)
        text = _REPEATS.sub(r"\1\1", text)
        text = _SPACES.sub(" ", text).replace("\r", "\n")
        return "\n".join(line.strip() for line in text.split("\n") if line.strip())

    def strip_boilerplate(self, text: str) -> tuple[str, bool]:
        """Remove platform default texts; returns (rest, whether any was found)."""
        found = False
        for phrase in self.boilerplate:
            if phrase in text:
                text = text.replace(phrase, " ")
                found = True
        if found:
            text = _SPACES.sub(" ", text).strip(" ，,。.!！")
        return text, found

    def clean(self, text: str) -> tuple[str, bool]:
        """Full cleaning of one text; returns (clean masked text, is default review)."""
        text = self.normalise(text)
        length, limit = len(text), self.config.max_text_chars
        if length > limit:
            text = text[: limit + _MASK_MARGIN]
        if self.config.mask_pii:
            text = mask_pii(text)
        if length > limit:
            note = truncation_note(length)
            text = text[: limit - len(note)] + note
        text, default = self.strip_boilerplate(text)
        return text, default


def truncation_note(length: int) -> str:
    """The note ending a text that was cut, so readers of any table can see it was."""
    return f"…[已截断，原文{length}字]"


@dataclass
class CleanResult:
    """Cleaned records, plus the rows set aside as duplicates or quarantined."""

    records: pd.DataFrame
    duplicates: pd.DataFrame  # source, file, row, doc_id, reason
    quarantine: pd.DataFrame


def clean_records(
    records: pd.DataFrame,
    config: CleanConfig,
    boilerplate: Iterable[str] = (),
    known_doc_ids: Iterable[str] = (),
    published_turns: pd.DataFrame | None = None,
) -> CleanResult:
    """Clean, mask and de-duplicate records.

    Args:
        records: Records from ingest (one per review or chat turn). A quarantined
            record names its ``text_field`` (the source's text column; ``text`` where
            records lack it) and keeps its text as read, masked.
        config: Cleaning settings.
        boilerplate: Platform default review texts to remove (from the taxonomy).
        known_doc_ids: Documents already published by earlier runs; the records of
            their reviews are counted as duplicates, which makes a rerun on the same
            files incremental.
        published_turns: The chat turns already published, as ``doc_id`` (of their
            session) and ``turn_index``; these are duplicates too. Any other turn of a
            known session is new: it is published as a continuation of the session, a
            document of its own (see :func:`continuation_id`).

    Returns:
        The cleaned records with ``text`` masked and an ``is_default_review`` column;
        duplicates (re-exports, copy-paste spam, reviews and chat turns already
        published) and quarantined rows (an id reused for a different text, text
        that is only noise).
    """
    cleaner = TextCleaner(config, tuple(boilerplate))
    out = records.copy()
    raw_long = out["text"].str.len() > config.max_text_chars
    if raw_long.any():
        log.warning(
            "%d texts longer than %d characters were cut",
            int(raw_long.sum()),
            config.max_text_chars,
        )
    cleaned = [cleaner.clean(t) for t in out["text"]]
    # Series with explicit dtypes: an empty run (nothing new tonight) still has text columns
    out["text"] = pd.Series([t for t, _ in cleaned], index=out.index, dtype=object)
    out["is_default_review"] = pd.Series([d for _, d in cleaned], index=out.index, dtype=bool)

    known = set(known_doc_ids)
    reasons = pd.Series(None, index=out.index, dtype=object)
    reasons[_already_published(out, known, published_turns)] = PUBLISHED_REASON

    empty = (out["text"].str.strip() == "") & ~out["is_default_review"] & reasons.isna()
    # A row is compared only with the rows that are kept: an unusable first version of
    # an id (only emoji, say) must not get a good later version quarantined as a reuse.
    usable = reasons.isna() & ~empty
    key = ["doc_id", "turn_index"]
    first_text = out[usable].drop_duplicates(key, keep="first").set_index(key)["text"]
    earlier = first_text.reindex(pd.MultiIndex.from_frame(out[key])).to_numpy()
    same_key = out[usable].duplicated(key, keep="first").reindex(out.index, fill_value=False)
    conflict = same_key & (out["text"].to_numpy() != earlier)
    reasons[same_key & ~conflict] = "same id and text as an earlier row"

    is_review = out["source_kind"] == "review"
    long_enough = out["text"].str.len() >= config.dedupe_min_chars
    repeated = (
        out[~conflict & ~empty]
        .duplicated(["product", "text"], keep="first")
        .reindex(out.index, fill_value=False)
    )
    spam = is_review & long_enough & repeated & reasons.isna()
    reasons[spam] = "same product and text as an earlier review"

    quarantine = pd.concat(
        [
            _set_aside(out[conflict], records["text"], "id reused with a different text"),
            _set_aside(
                out[empty], records["text"], "no text left after cleaning (only markup or emoji)"
            ),
        ],
        ignore_index=True,
    )
    continued = reasons.isna() & ~conflict & ~empty & out["doc_id"].isin(known)
    if continued.any():
        first_turn = out.loc[continued].groupby("doc_id")["turn_index"].transform("min")
        out.loc[continued, "doc_id"] = [
            continuation_id(d, t)
            for d, t in zip(out.loc[continued, "doc_id"], first_turn, strict=True)
        ]
        # A continuation is published once. One whose turns left no units (platform
        # boilerplate only) is not among the published turns, but its document is.
        reasons[continued & out["doc_id"].isin(known)] = PUBLISHED_REASON
        log.info("clean: %d new turns of sessions published before", int(continued.sum()))
    dup_mask = reasons.notna()
    duplicates = out.loc[dup_mask, ["source", "file", "row", "doc_id"]].assign(
        reason=reasons[dup_mask]
    )
    keep = ~dup_mask & ~conflict & ~empty
    log.info(
        "clean: %d records kept, %d duplicates, %d quarantined",
        int(keep.sum()), int(dup_mask.sum()), len(quarantine),
    )  # fmt: skip
    return CleanResult(
        records=out[keep].reset_index(drop=True),
        duplicates=duplicates.reset_index(drop=True),
        quarantine=quarantine,
    )


def continuation_id(session_doc_id: str, first_turn: int) -> str:
    """The document of a chat session's turns that came after it was published.

    Its id is derived from the session's and from its first turn, which no later
    continuation can share (that turn is published by then): the same export read
    again gives the same ids.
    """
    return stable_id(session_doc_id, "continued", str(int(first_turn)))


def _already_published(
    records: pd.DataFrame, known: set[str], published_turns: pd.DataFrame | None
) -> pd.Series:
    """Reviews whose document is known, and chat turns among ``published_turns``."""
    known_doc = records["doc_id"].isin(known)
    if published_turns is None or published_turns.empty:
        known_turn = pd.Series(False, index=records.index)
    else:
        turns = pd.MultiIndex.from_frame(published_turns[["doc_id", "turn_index"]])
        keys = pd.MultiIndex.from_frame(records[["doc_id", "turn_index"]])
        known_turn = pd.Series(keys.isin(turns), index=records.index)
    is_chat = records["source_kind"] == "chat"
    return known_doc & (~is_chat | known_turn)


def _set_aside(rows: pd.DataFrame, texts: pd.Series, reason: str) -> pd.DataFrame:
    """Quarantine rows, as ingest writes them: the source's text column, its text as read."""
    fields = rows["text_field"] if "text_field" in rows else pd.Series("text", index=rows.index)
    return pd.DataFrame(
        [
            quarantine_row(r.source, r.file, r.row, field, reason, str(text))
            for r, field, text in zip(rows.itertuples(), fields, texts.loc[rows.index], strict=True)
        ],
        columns=QUARANTINE_COLUMNS,
    )
