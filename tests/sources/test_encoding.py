"""Encoding detection: UTF-8, UTF-8 with BOM and GBK/GB18030 files decode; others fail clearly."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from voc.errors import InputFileError
from voc.sources.encoding import decode_file, detect_encoding

TEXT = "评价编号,商品名称,评价内容\nB000001,纯棉短袖T恤,質量很好，物流太慢了\n"
# U+3400 is in GB18030 but not in GBK: a GB18030-only file.
GB18030_ONLY = "评价内容\n㐀字很少见，质量很好\n"


def write(tmp_path: Path, data: bytes, name: str = "reviews.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "expected_codec", "expected_text"),
    [
        (TEXT.encode("utf-8"), "utf-8", TEXT),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig", TEXT),
        (TEXT.encode("gbk"), "gb18030", TEXT),
        (GB18030_ONLY.encode("gb18030"), "gb18030", GB18030_ONLY),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030"],
)
def test_decode_file_detects_and_decodes(
    tmp_path: Path, data: bytes, expected_codec: str, expected_text: str
) -> None:
    path = write(tmp_path, data)

    text, codec = decode_file(path)

    assert codec == expected_codec
    assert text == expected_text


def test_gb18030_sample_is_not_plain_gbk() -> None:
    # Guards the GB18030 case above: it must really need more than GBK.
    with pytest.raises(UnicodeEncodeError):
        GB18030_ONLY.encode("gbk")


def test_gbk_bytes_are_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        TEXT.encode("gbk").decode("utf-8")


def test_decode_file_strips_the_bom(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + "content\n好评\n".encode())

    text, _ = decode_file(path)

    assert not text.startswith("\ufeff")
    assert text.splitlines()[0] == "content"


def test_decode_file_strips_the_bom_with_explicit_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + "content\n好评\n".encode())

    text, codec = decode_file(path, encoding="utf-8")

    assert codec == "utf-8"
    assert text == "content\n好评\n"


def test_utf16_with_bom_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "content\n好评\n".encode("utf-16"))

    text, codec = decode_file(path)

    assert codec == "utf-16"
    assert text == "content\n好评\n"


@pytest.mark.parametrize(
    "data",
    [
        # A file that mixes UTF-8 and GBK halfway through, with stray bytes between.
        "中文".encode() + b"\xff\xfe\xfd" + "中文".encode("gbk"),
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    ],
    ids=["mixed-encodings", "binary"],
)
def test_undecodable_file_raises_naming_the_file(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data, name="broken_export.csv")

    with pytest.raises(InputFileError, match=re.escape(str(path))) as info:
        decode_file(path)

    assert "UTF-8" in info.value.message


def test_undecodable_error_names_first_bad_byte(tmp_path: Path) -> None:
    data = "中文".encode() + b"\xff\xfe\xfd" + "中文".encode("gbk")

    with pytest.raises(InputFileError, match="byte 6 on line 1"):
        detect_encoding(tmp_path / "x.csv", data)


def test_bad_byte_in_a_gbk_file_is_reported_on_its_own_line(tmp_path: Path) -> None:
    # Line 2 is the first that is not UTF-8, but GBK reads it: the bad byte is on line 4.
    data = "id,review\n1,质量很好\n2,做工太差\n".encode("gbk") + b"3,\x80\n"

    with pytest.raises(InputFileError, match="byte 34 on line 4 is neither UTF-8 nor GBK"):
        detect_encoding(tmp_path / "x.csv", data)


def test_encoding_errors_name_the_config_key_not_a_missing_option(tmp_path: Path) -> None:
    undecodable = "中文".encode() + b"\xff\xfe\xfd" + "中文".encode("gbk")
    detected = write(tmp_path, undecodable, name="detected.csv")
    named = write(tmp_path, TEXT.encode("gbk"), name="named.csv")

    for path, encoding in [(detected, None), (named, "utf-8")]:
        with pytest.raises(InputFileError) as info:
            decode_file(path, encoding)
        assert "`encoding:`" in info.value.message
        assert "--encoding" not in info.value.message


# ---------------------------------------------------------------- mixed encodings

# Three reviews saved as UTF-8, then one appended from a GBK export. GB18030 reads the
# whole file without error, the UTF-8 lines as garbage: the mix must be caught.
UTF8_LINES = "id,review\n1,质量很好\n2,物流太慢\n3,音质不错 降噪也好\n".encode()
MIXED = UTF8_LINES + "4,尺码偏小\n".encode("gbk")


def test_mixed_file_would_decode_as_gb18030() -> None:
    # Guards the test below: the mix is the silent kind.
    assert "质量很好" not in MIXED.decode("gb18030")


def test_mixed_utf8_and_gbk_lines_raise_naming_the_odd_line(tmp_path: Path) -> None:
    path = write(tmp_path, MIXED)

    with pytest.raises(
        InputFileError, match="line 5 is GBK/GB18030, not UTF-8 like most lines"
    ) as info:
        decode_file(path)

    assert info.value.message.startswith(f"{path}: ")
    assert "one encoding" in info.value.message


def test_mostly_gbk_file_names_the_first_utf8_line(tmp_path: Path) -> None:
    data = "id,review\n1,质量很好\n2,物流太慢\n3,尺码偏小\n".encode("gbk") + (
        "4,音质不错\n5,降噪也好\n".encode()
    )

    with pytest.raises(InputFileError, match="line 5 is UTF-8, not GBK/GB18030 like most lines"):
        detect_encoding(tmp_path / "x.csv", data)


def test_utf8_file_cut_inside_a_character_is_not_taken_for_a_mix(tmp_path: Path) -> None:
    # The last line, cut after 2 of the 3 bytes of 好, is valid GB18030 on its own.
    data = UTF8_LINES + "4,好".encode()[:-1]

    with pytest.raises(InputFileError, match=r"byte 70 on line 5 is neither .* cut off"):
        detect_encoding(tmp_path / "cut.csv", data)


def test_real_reviews_saved_as_gbk_are_not_taken_for_a_mix(shared_data: Path) -> None:
    text = (shared_data / "waimai_10k.csv").read_text(encoding="utf-8")

    assert detect_encoding(Path("waimai.csv"), text.encode("gbk", errors="ignore")) == "gb18030"


def test_gbk_demo_file_is_not_taken_for_a_mix(demo_dir: Path) -> None:
    path = demo_dir / "reviews_shop_b_gbk.csv"

    assert detect_encoding(path, path.read_bytes()) == "gb18030"


def test_explicit_wrong_encoding_raises_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT.encode("gbk"))

    with pytest.raises(InputFileError, match=re.escape(str(path))):
        decode_file(path, encoding="utf-8")


def test_unknown_codec_name_raises_input_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT.encode("utf-8"))

    with pytest.raises(InputFileError, match="no-such-codec"):
        decode_file(path, encoding="no-such-codec")


def test_missing_file_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"

    with pytest.raises(InputFileError, match=re.escape(str(path))):
        decode_file(path)


def test_error_code_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        decode_file(tmp_path / "missing.csv")

    assert str(info.value).startswith("[E101] ")
