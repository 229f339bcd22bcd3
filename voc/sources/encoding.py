"""Detect the text encoding of an input file: UTF-8, UTF-8 with BOM, or GBK/GB18030."""

from __future__ import annotations

import codecs
from pathlib import Path

import charset_normalizer

from voc.errors import InputFileError

# GB18030 is a superset of GBK and GB2312, so one codec reads all three.
_CHINESE_LEGACY = "gb18030"


def detect_encoding(path: Path, data: bytes) -> str:
    """Return the Python codec name that decodes ``data`` without error.

    Strict decoding is tried in order (UTF-8 BOM, UTF-8, GB18030) because for Chinese
    text a strict decode is a far better test than statistical guessing; the
    statistical detector is the last resort for anything else.

    Raises:
        InputFileError: if no codec decodes the file, naming the first bad byte offset.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as utf8_error:
        first_bad = utf8_error.start
    try:
        data.decode(_CHINESE_LEGACY)
        return _CHINESE_LEGACY
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        return best.encoding
    line = data[:first_bad].count(b"\n") + 1
    raise InputFileError(
        f"{path}: cannot tell the text encoding (not UTF-8 from byte {first_bad} on line {line},"
        " and not GBK/GB18030: the file may mix encodings or be cut off);"
        " re-save the file as UTF-8 or pass --encoding"
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
            f"{path}: cannot decode as {codec}: {exc}; check --encoding or re-save as UTF-8"
        ) from exc
    return text.removeprefix("\ufeff"), codec
