"""Detect the text encoding of an input file: UTF-8, UTF-8 with BOM, or GBK/GB18030."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import charset_normalizer

from voc.errors import InputFileError

# GB18030 is a superset of GBK and GB2312, so one codec reads all three.
_CHINESE_LEGACY = "gb18030"
_CJK = re.compile(r"[\u3400-\u9fff]")
# Lines of Chinese text that are valid UTF-8 in a file that is not: one line could be
# GBK bytes that happen to form UTF-8 (none in 100k lines of the shared corpora), two
# or more are a mix of encodings.
_MIN_UTF8_LINES = 2
_HOW_TO_FIX = (
    "re-save the file as UTF-8, or name its encoding with `encoding:` for this source"
    " in a --config file"
)


def detect_encoding(path: Path, data: bytes) -> str:
    """Return the Python codec name that decodes ``data`` without error.

    Strict decoding is tried in order (UTF-8 BOM, UTF-8, GB18030) because for Chinese
    text a strict decode is a far better test than statistical guessing; the
    statistical detector is the last resort for anything else. A file that is not
    UTF-8 as a whole but has several lines of Chinese text that are is refused:
    GB18030 would read those lines without error, as garbage. Its other lines are GBK
    (a mix of encodings) or neither (the file is cut off or damaged).

    Raises:
        InputFileError: the file mixes UTF-8 and GBK lines, naming the first line not in
            the majority's encoding; or no codec decodes it, naming the first bad byte.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    lines = _line_encodings(data)
    if sum(codec == "utf-8" for _, _, codec in lines) >= _MIN_UTF8_LINES:
        _refuse_mixed_encodings(path, lines)
        raise _undecodable(path, data, lines)
    try:
        data.decode(_CHINESE_LEGACY)
        return _CHINESE_LEGACY
    except UnicodeDecodeError as legacy_error:
        first_bad = legacy_error.start
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        return best.encoding
    raise _undecodable(path, data, lines, first_bad)


def _undecodable(
    path: Path, data: bytes, lines: list[tuple[int, int, str | None]], fallback: int = 0
) -> InputFileError:
    """The error naming the first byte no line's codec reads (else ``fallback``)."""
    first_bad = next((offset for _, offset, codec in lines if codec is None), fallback)
    line = data[:first_bad].count(b"\n") + 1
    return InputFileError(
        f"{path}: cannot tell the text encoding: byte {first_bad} on line {line} is neither"
        f" UTF-8 nor GBK/GB18030 (is the file cut off or damaged?); {_HOW_TO_FIX}"
    )


def _line_encodings(data: bytes) -> list[tuple[int, int, str | None]]:
    """``(line number, byte offset, codec)`` of each line holding non-ASCII bytes.

    ``codec`` is ``utf-8`` for valid UTF-8 holding CJK text, ``gb18030`` when only
    GB18030 reads the line, ``None`` when neither does (the offset is then that of
    the bad byte). Splitting on newlines is safe: in neither encoding is a newline
    byte part of a character.
    """
    lines: list[tuple[int, int, str | None]] = []
    start = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        offset, start = start, start + len(line) + 1
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as utf8_error:
            legacy_bad = _first_bad_byte(line, _CHINESE_LEGACY)
            cut_off = offset + len(line) == len(data) and utf8_error.end == len(line)
            if cut_off:  # the file ends inside a UTF-8 character
                lines.append((number, offset + utf8_error.start, None))
            elif legacy_bad is None:
                lines.append((number, offset, _CHINESE_LEGACY))
            else:  # the codec that reads further is the line's: where it stops is the bad byte
                lines.append((number, offset + max(utf8_error.start, legacy_bad), None))
            continue
        if _CJK.search(text):
            lines.append((number, offset, "utf-8"))
    return lines


def _first_bad_byte(data: bytes, codec: str) -> int | None:
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def _refuse_mixed_encodings(path: Path, lines: list[tuple[int, int, str | None]]) -> None:
    utf8 = [number for number, _, codec in lines if codec == "utf-8"]
    legacy = [number for number, _, codec in lines if codec == _CHINESE_LEGACY]
    if not legacy:
        return
    if len(utf8) >= len(legacy):
        line, odd, usual = legacy[0], "GBK/GB18030", "UTF-8"
    else:
        line, odd, usual = utf8[0], "UTF-8", "GBK/GB18030"
    raise InputFileError(
        f"{path}: line {line} is {odd}, not {usual} like most lines: the file seems to"
        " mix encodings (pieced together from several exports?); save it in one"
        " encoding, UTF-8 preferably, and run again"
    )


def decode_file(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Read ``path`` and decode it.

    Returns:
        The text (BOM removed) and the codec used.

    Raises:
        InputFileError: missing file, or bytes that the chosen codec cannot decode.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read file: {exc.strerror}") from exc
    codec = encoding or detect_encoding(path, data)
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputFileError(
            f"{path}: cannot decode as {codec}: {exc}; check `encoding:` for this source"
            " in the config file, or re-save the file as UTF-8"
        ) from exc
    return text.removeprefix("\ufeff"), codec
