"""Find which input column plays which role (text, id, product, time, rating, ...)."""

from __future__ import annotations

import re

import pandas as pd

from voc.config import ColumnMap, repeated
from voc.errors import ColumnError

# Lower-cased header names seen in real exports (Taobao, JD, Tmall, Pinduoduo, Dianping,
# the public corpora in ../shared/data), best first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "text": (
        "content",
        "review",
        "text",
        "comment",
        "reviewbody",
        "review_text",
        "body",
        "message",
        "utterance",
        "评价内容",
        "评论内容",
        "内容",
        "评价",
        "评论",
        "文本",
        "正文",
        "聊天内容",
        "消息",
    ),
    "id": (
        "review_id",
        "comment_id",
        "id",
        "index",
        "评价编号",
        "评价id",
        "评论id",
        "编号",
        "message_id",
    ),
    "product": (
        "product",
        "product_name",
        "product_id",
        "sku",
        "sku_id",
        "item",
        "item_name",
        "item_id",
        "goods",
        "商品",
        "商品名称",
        "商品名",
        "产品",
        "产品名称",
        "商品id",
        "cat",
    ),
    "time": (
        "created_at",
        "sent_at",
        "timestamp",
        "time",
        "datetime",
        "date",
        "review_time",
        "comment_time",
        "评价时间",
        "评论时间",
        "发送时间",
        "创建时间",
        "时间",
        "日期",
    ),
    "rating": ("rating", "star", "stars", "score", "评分", "星级", "分数", "打分"),
    "speaker": ("is_agent", "speaker", "role", "sender", "是否客服", "发送方", "角色"),
    "session": ("session_id", "session", "conversation_id", "dialog_id", "会话id", "会话"),
    "user": ("user_id", "customer_id", "buyer_id", "user", "用户id", "用户", "买家", "会员"),
}

ROLES = tuple(CANDIDATES)

# Text a customer wrote: a CJK character, or two words with a space between them.
_WORDS = re.compile(r"[\u3400-\u9fff]|[^\W\d_]{2,}\s+[^\W\d_]{2,}")
_SAMPLE = 200


def check_header_names(names: list[object], source: str) -> None:
    """Refuse a header that names a column twice: which copy holds the text is a guess.

    Names are compared as text, without surrounding spaces. Blank names are left
    alone: trailing commas in a header make several of them.

    Raises:
        ColumnError: naming the file and every repeated name.
    """
    doubled = repeated([str(n).strip() for n in names if n is not None and str(n).strip()])
    if len(doubled) == 1:
        raise ColumnError(
            f"{source}: column {doubled[0]!r} appears more than once in the header;"
            " rename or remove the copies"
        )
    if doubled:
        raise ColumnError(
            f"{source}: columns {', '.join(map(repr, doubled))} appear more than once in"
            " the header; rename or remove the copies"
        )


def detect_columns(frame: pd.DataFrame, mapping: ColumnMap, source: str) -> dict[str, str]:
    """Resolve the column of each role.

    Named columns (``mapping``) win; the rest are matched against :data:`CANDIDATES`,
    and the text column falls back to the column with the longest values among those
    whose values are mostly words (CJK, or words with spaces), not ids or numbers.

    Args:
        frame: The raw table (all strings), with its ``_row`` column.
        mapping: Columns named by the user; ``None`` entries are detected.
        source: The file, for error messages.

    Returns:
        role -> column name, for every role found. ``text`` is always present.

    Raises:
        ColumnError: a header name is repeated, a named column does not exist, or no
            text column can be found.
    """
    columns = [c for c in frame.columns if c != "_row"]
    check_header_names(columns, source)
    lowered = {c.strip().lower(): c for c in columns}
    found: dict[str, str] = {}
    for role in ROLES:
        named = getattr(mapping, role)
        if named is not None:
            if named not in columns:
                raise ColumnError(
                    f"{source}: --{role}-column {named!r} is not a column; columns are {columns}"
                )
            found[role] = named
    taken = set(found.values())
    for role in ROLES:
        if role in found:
            continue
        for candidate in CANDIDATES[role]:
            column = lowered.get(candidate)
            if column is not None and column not in taken:
                found[role] = column
                taken.add(column)
                break
    if "text" not in found:
        found["text"] = _longest_text_column(frame, columns, taken, source)
    return found


def _longest_text_column(
    frame: pd.DataFrame, columns: list[str], taken: set[str], source: str
) -> str:
    best, best_len = None, 0.0
    for column in columns:
        # a repeated (blank) name cannot be told apart; ids and numbers are not text
        if column in taken or columns.count(column) > 1 or not _holds_words(frame[column]):
            continue
        values = frame[column].dropna().astype(str)
        mean_len = float(values.str.len().mean()) if len(values) else 0.0
        if mean_len > best_len:
            best, best_len = column, mean_len
    if best is None or best_len < 2:
        raise ColumnError(
            f"{source}: no text column found among {columns}; name it with --text-column"
        )
    return best


def _holds_words(values: pd.Series) -> bool:
    """Whether most sampled values read as text rather than ids, codes or numbers."""
    sample = values.dropna().astype(str).head(_SAMPLE)
    return bool(sample.str.contains(_WORDS).mean() > 0.5) if len(sample) else False
