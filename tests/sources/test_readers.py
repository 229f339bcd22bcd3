"""File readers: every format gives a table of strings with a ``_row`` column; bad rows listed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from voc.errors import ColumnError, InputFileError
from voc.sources.readers import guess_format, looks_like_jddc, read_file

SESSION = "0000b82c62117aa4497508bb1bdfb53a"
OTHER_SESSION = "ffff0000aaaa1111bbbb2222cccc3333"
JDDC_LINES = [
    f"{SESSION}\tUSERID_1\t0\t0\t0\tnan\t你好，在吗",
    f"{SESSION}\tUSERID_1\t1\t0\t0\tnan\t亲，在的",
    f"{OTHER_SESSION}\tUSERID_2\t0\t0\t0\tnan\t地址可以改吗",
]


def write_text(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- CSV / TSV


def test_csv_quoted_comma_and_escaped_quotes(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        "r.csv",
        'id,content\r\nA1,"质量很好,物流很快"\r\nA2,"说是""纯棉""，摸着跟化纤似的"\r\n',
    )

    frame, bad, fmt, codec = read_file(path)

    assert (fmt, codec) == ("csv", "utf-8")
    assert bad == []
    assert frame["content"].tolist() == ["质量很好,物流很快", '说是"纯棉"，摸着跟化纤似的']
    assert frame["_row"].tolist() == [2, 3]


def test_csv_ragged_row_goes_to_bad_rows_with_line_number(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        "r.csv",
        "id,product,content\nA1,T恤,好\nA2,T恤,味道不错,就是核桃有点少\nA3,耳机,音质不错\n",
    )

    frame, bad, _, _ = read_file(path)

    assert frame["id"].tolist() == ["A1", "A3"]
    assert frame["_row"].tolist() == [2, 4]
    assert len(bad) == 1
    row, field, reason, raw = bad[0]
    assert row == 3
    assert field == ""
    assert reason == "expected 3 fields, found 4"
    assert raw == "A2,T恤,味道不错,就是核桃有点少"


def test_csv_row_numbers_are_physical_lines_after_multiline_field(tmp_path: Path) -> None:
    path = write_text(tmp_path, "r.csv", 'id,content\nA1,"第一行\n第二行"\nA2,好\nA3,x,y\n')

    frame, bad, _, _ = read_file(path)

    assert frame["content"].tolist() == ["第一行\n第二行", "好"]
    assert frame["_row"].tolist() == [2, 4]
    assert [b[0] for b in bad] == [5]


def test_csv_blank_lines_are_not_rows(tmp_path: Path) -> None:
    path = write_text(tmp_path, "r.csv", "id,content\nA1,好\n\n\nA2,差\n")

    frame, bad, _, _ = read_file(path)

    assert frame["id"].tolist() == ["A1", "A2"]
    assert frame["_row"].tolist() == [2, 5]
    assert bad == []


def test_csv_header_whitespace_is_stripped(tmp_path: Path) -> None:
    path = write_text(tmp_path, "r.csv", " id , content \nA1,好\n")

    frame, _, _, _ = read_file(path)

    assert list(frame.columns) == ["id", "content", "_row"]


def test_csv_values_are_strings(tmp_path: Path) -> None:
    path = write_text(tmp_path, "r.csv", "id,rating,content\n007,5,好\n")

    frame, _, _, _ = read_file(path)

    assert frame.loc[0, "id"] == "007"
    assert frame.loc[0, "rating"] == "5"


def test_csv_in_gbk_is_read(tmp_path: Path) -> None:
    path = write_text(tmp_path, "r.csv", "评价编号,评价内容\nB1,质量很好\n", encoding="gbk")

    frame, _, _, codec = read_file(path)

    assert codec == "gb18030"
    assert list(frame.columns) == ["评价编号", "评价内容", "_row"]
    assert frame["评价内容"].tolist() == ["质量很好"]


def test_tsv_is_read_with_tabs(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.tsv", "id\tcontent\nA1\t好,很好\nA2\t差\textra\n")

    frame, bad, fmt, _ = read_file(path)

    assert fmt == "tsv"
    assert frame["content"].tolist() == ["好,很好"]
    assert [(b[0], b[2]) for b in bad] == [(3, "expected 2 fields, found 3")]


def test_tab_separated_file_named_csv_is_read_as_tsv(tmp_path: Path) -> None:
    path = write_text(tmp_path, "export.csv", "id\treview\n1\t质量很好\n")

    frame, _, fmt, _ = read_file(path)

    assert fmt == "tsv"
    assert frame["review"].tolist() == ["质量很好"]


def test_blank_header_raises(tmp_path: Path) -> None:
    path = write_text(tmp_path, "r.csv", ",,\nA1,好,x\n")

    with pytest.raises(InputFileError, match="header row is blank"):
        read_file(path)


# ---------------------------------------------------------------- JSONL


def test_jsonl_invalid_line_is_a_bad_row(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "J1", "text": "质量很好", "rating": 5}, ensure_ascii=False),
        "{not json",
        "",
        json.dumps({"id": "J2", "text": "物流太慢", "rating": 1}, ensure_ascii=False),
    ]
    path = write_text(tmp_path, "r.jsonl", "\n".join(lines) + "\n")

    frame, bad, fmt, _ = read_file(path)

    assert fmt == "jsonl"
    assert frame["id"].tolist() == ["J1", "J2"]
    assert frame["rating"].tolist() == ["5", "1"]
    assert frame["_row"].tolist() == [1, 4]
    assert len(bad) == 1
    assert bad[0][0] == 2
    assert bad[0][2].startswith("invalid JSON")
    assert bad[0][3] == "{not json"


def test_jsonl_non_object_line_is_a_bad_row(tmp_path: Path) -> None:
    path = write_text(tmp_path, "r.jsonl", '{"text": "好"}\n[1, 2]\n')

    frame, bad, _, _ = read_file(path)

    assert len(frame) == 1
    assert [(b[0], b[2]) for b in bad] == [(2, "expected a JSON object")]


def test_json_array_of_objects_is_read_row_by_row(tmp_path: Path) -> None:
    items = [{"id": "J1", "text": "质量很好", "rating": 5}, [1, 2], {"id": "J2", "text": "太慢"}]
    path = write_text(tmp_path, "r.json", json.dumps(items, ensure_ascii=False, indent=2))

    frame, bad, fmt, _ = read_file(path)

    assert fmt == "jsonl"
    assert frame["id"].tolist() == ["J1", "J2"]
    assert frame["rating"].tolist() == ["5", None]
    assert frame["_row"].tolist() == [1, 3]  # place in the array
    assert [(b[0], b[2]) for b in bad] == [(2, "expected a JSON object")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"id": "J1", "text": "好"},\n {"id": "J2", "text": "差"\n', "line 3: invalid JSON"),
        ("not json\n{also not\n", "line 1: invalid JSON"),
    ],
    ids=["cut-off-array", "no-object-at-all"],
)
def test_json_that_is_neither_lines_nor_array_raises(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_text(tmp_path, "r.json", text)

    with pytest.raises(InputFileError, match=message) as info:
        read_file(path)

    assert info.value.message.startswith(f"{path}: ")
    assert "one JSON object per line" in info.value.message


# ---------------------------------------------------------------- XLSX / Parquet


def test_xlsx_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    source = pd.DataFrame(
        {"id": ["X1", "X2"], "content": ["质量很好", "物流太慢"], "rating": [5, 1]}
    )
    source.to_excel(path, index=False, engine="openpyxl")

    frame, bad, fmt, codec = read_file(path)

    assert (fmt, codec) == ("xlsx", "binary")
    assert bad == []
    assert frame["id"].tolist() == ["X1", "X2"]
    assert frame["content"].tolist() == ["质量很好", "物流太慢"]
    assert frame["rating"].tolist() == ["5", "1"]
    # Row numbers as Excel shows them: the header is row 1.
    assert frame["_row"].tolist() == [2, 3]


def test_xlsx_empty_cell_is_none(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    pd.DataFrame({"id": ["X1", "X2"], "content": ["好", None]}).to_excel(path, index=False)

    frame, _, _, _ = read_file(path)

    assert frame.loc[1, "content"] is None


def write_workbook(path: Path, rows: list[list[object]]) -> Path:
    """A one-sheet workbook holding ``rows`` as written (pandas would rename a repeated name)."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["id", "content", "content"], "column 'content' appears more than once in the header"),
        (["id", "content", " content "], "column 'content' appears more than once in the header"),
        (
            ["id", "content", "id", "content"],
            "columns 'content', 'id' appear more than once in the header",
        ),
    ],
    ids=["same-name", "same-name-with-spaces", "two-names"],
)
def test_xlsx_repeated_header_name_raises_naming_file_and_names(
    tmp_path: Path, header: list[str], message: str
) -> None:
    path = write_workbook(
        tmp_path / "r.xlsx", [header, ["1", "质量很好", "2", "做工差"][: len(header)]]
    )

    with pytest.raises(ColumnError) as info:
        read_file(path)

    assert info.value.message == f"{path}: {message}; rename or remove the copies"


@pytest.mark.parametrize(("name", "sep"), [("r.csv", ","), ("r.tsv", "\t")])
def test_delimited_repeated_header_name_raises_like_a_workbook(
    tmp_path: Path, name: str, sep: str
) -> None:
    path = tmp_path / name
    path.write_text(
        sep.join(["id", "content", "content"]) + "\n" + sep.join(["1", "好", "差"]) + "\n"
    )

    with pytest.raises(ColumnError) as info:
        read_file(path)

    assert info.value.message == (
        f"{path}: column 'content' appears more than once in the header; rename or remove the copies"
    )


def test_delimited_blank_header_names_are_not_repeats(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("content,,\n质量很好,,\n", encoding="utf-8")

    frame, bad, _, _ = read_file(path)

    assert frame["content"].tolist() == ["质量很好"] and bad == []


def test_xlsx_column_really_named_like_a_pandas_copy_is_read(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "r.xlsx",
        [["content", "content.1", None, None], ["质量很好", "做工差", None, None]],
    )

    frame, _, _, _ = read_file(path)

    assert list(frame.columns) == ["content", "content.1", "_row"]
    assert frame.loc[0, "content.1"] == "做工差"


def test_xlsx_blank_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "r.xlsx",
        [[], [None, " "], ["id", "content"], ["1", "质量很好"], [], ["2", "做工差"]],
    )

    frame, _, _, _ = read_file(path)

    assert list(frame.columns) == ["id", "content", "_row"]
    # the header is Excel row 3; a blank row is not a row, and the numbers stay Excel's
    assert frame["content"].tolist() == ["质量很好", "做工差"]
    assert frame["_row"].tolist() == [4, 6]


def test_xlsx_blank_header_cells_are_not_repeats(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "r.xlsx", [["content", None, None], ["质量很好", "x", "y"]])

    frame, _, _, _ = read_file(path)

    assert list(frame.columns) == ["content", "Unnamed: 1", "Unnamed: 2", "_row"]


@pytest.mark.parametrize("name", ["renamed.xlsx", "old.xls"])
def test_file_that_is_not_an_xlsx_workbook_raises(tmp_path: Path, name: str) -> None:
    path = write_text(tmp_path, name, "id,content\nA1,好\n")

    with pytest.raises(InputFileError, match="not an xlsx workbook") as info:
        read_file(path)

    assert info.value.message.startswith(f"{path}: ")


def test_xlsx_other_sheets_are_named_in_a_warning(tmp_path: Path, caplog) -> None:
    path = tmp_path / "r.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"content": ["好评"]}).to_excel(writer, sheet_name="五月", index=False)
        pd.DataFrame({"content": ["差评"]}).to_excel(writer, sheet_name="六月", index=False)

    frame, _, _, _ = read_file(path)

    assert frame["content"].tolist() == ["好评"]
    assert "['六月'] are ignored" in caplog.text


def test_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    table = pa.table(
        {"id": ["P1", "P2", "P3"], "content": ["质量很好", "物流太慢", "好评"], "rating": [5, 1, 4]}
    )
    pq.write_table(table, path)

    frame, bad, fmt, codec = read_file(path)

    assert (fmt, codec) == ("parquet", "binary")
    assert bad == []
    assert frame["id"].tolist() == ["P1", "P2", "P3"]
    assert frame["content"].tolist() == ["质量很好", "物流太慢", "好评"]
    assert frame["rating"].tolist() == ["5", "1", "4"]
    assert frame["_row"].is_unique
    assert frame["_row"].is_monotonic_increasing


def test_corrupt_parquet_raises_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    path.write_bytes(b"not a parquet file at all")

    with pytest.raises(InputFileError, match=re.escape(str(path))):
        read_file(path)


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("tags", pa.array([["好"], ["差", "慢"]])),
        ("blob", pa.array([b"ok", b"\xff\xfe"], type=pa.binary())),  # not UTF-8
    ],
    ids=["list", "invalid-utf8"],
)
def test_parquet_column_that_is_not_text_raises_naming_it(
    tmp_path: Path, column: str, values: pa.Array
) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"content": ["好评", "差评"], column: values}), path)

    with pytest.raises(InputFileError, match=f"column '{column}'") as info:
        read_file(path)

    assert info.value.message.startswith(f"{path}: ")


# ---------------------------------------------------------------- JDDC


def test_looks_like_jddc_accepts_a_jddc_line() -> None:
    assert looks_like_jddc("\n".join(JDDC_LINES))


@pytest.mark.parametrize(
    "head",
    [
        "session_id\tuser_id\tis_agent\tproduct\tsent_at\ttext\n",  # a header row
        "S0001\tU1\t0\tx\ty\tz\t你好\n",  # session id not 32 hex digits
        f"{SESSION}\tUSERID_1\tx\t0\t0\tnan\t你好\n",  # speaker flag not 0/1
        f"{SESSION}\tUSERID_1\t0\t0\tnan\t你好\n",  # 6 fields
        f"{SESSION.upper()}\tUSERID_1\t0\t0\t0\tnan\t你好\n",  # upper-case hex
    ],
    ids=["header", "short-session", "bad-flag", "six-fields", "upper-hex"],
)
def test_looks_like_jddc_rejects_other_layouts(head: str) -> None:
    assert not looks_like_jddc(head)


def test_read_file_detects_jddc_and_names_columns(tmp_path: Path) -> None:
    path = write_text(tmp_path, "chat_log.tsv", "\n".join(JDDC_LINES) + "\n")

    frame, bad, fmt, _ = read_file(path)

    assert fmt == "jddc"
    assert bad == []
    assert list(frame.columns) == [
        "session_id", "user_id", "is_agent", "transferred", "repeat", "sku", "text", "_row",
    ]  # fmt: skip
    assert frame["session_id"].tolist() == [SESSION, SESSION, OTHER_SESSION]
    assert frame["is_agent"].tolist() == ["0", "1", "0"]
    assert frame["text"].tolist() == ["你好，在吗", "亲，在的", "地址可以改吗"]
    # No header: the first line is row 1.
    assert frame["_row"].tolist() == [1, 2, 3]


def test_jddc_short_line_is_a_bad_row(tmp_path: Path) -> None:
    lines = [*JDDC_LINES[:2], f"{SESSION}\tUSERID_1\t0\t好的"]
    path = write_text(tmp_path, "chat_log.txt", "\n".join(lines) + "\n")

    frame, bad, fmt, _ = read_file(path)

    assert fmt == "jddc"
    assert len(frame) == 2
    assert [(b[0], b[2]) for b in bad] == [(3, "expected 7 tab-separated fields, found 4")]


def test_tsv_with_header_is_not_jddc(tmp_path: Path) -> None:
    path = write_text(tmp_path, "c.tsv", "session_id\tis_agent\ttext\nS1\t0\t你好\n")

    _, _, fmt, _ = read_file(path)

    assert fmt == "tsv"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"  \n\n \n", "no text"),
        ("empty.parquet", b"", "empty"),
    ],
)
def test_empty_file_raises_naming_the_path(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)

    with pytest.raises(InputFileError, match=message) as info:
        read_file(path)

    assert str(path) in info.value.message


@pytest.mark.parametrize("name", ["missing.csv", "missing.xlsx", "missing.parquet"])
def test_missing_file_raises_naming_the_path(tmp_path: Path, name: str) -> None:
    path = tmp_path / name

    with pytest.raises(InputFileError, match="not found") as info:
        read_file(path)

    assert str(path) in info.value.message


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is a directory") as info:
        read_file(tmp_path)

    assert info.value.message.startswith(f"{tmp_path}: ")


@pytest.mark.parametrize("name", ["reviews.docx", "reviews", "reviews.csv.bak"])
def test_unknown_suffix_raises(tmp_path: Path, name: str) -> None:
    path = write_text(tmp_path, name, "id,content\nA1,好\n")

    with pytest.raises(InputFileError, match="unknown file type") as info:
        read_file(path)

    assert str(path) in info.value.message


def test_explicit_format_overrides_suffix(tmp_path: Path) -> None:
    path = write_text(tmp_path, "export.dat", "id,content\nA1,好\n")

    frame, _, fmt, _ = read_file(path, fmt="csv")

    assert fmt == "csv"
    assert frame["content"].tolist() == ["好"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", "csv"),
        ("a.CSV", "csv"),
        ("a.tsv", "tsv"),
        ("a.txt", "tsv"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.xlsx", "xlsx"),
        ("a.parquet", "parquet"),
        ("a.pq", "parquet"),
    ],
)
def test_guess_format_by_suffix(name: str, expected: str) -> None:
    assert guess_format(Path(name), None) == expected
