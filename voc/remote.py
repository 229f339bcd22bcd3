"""Inputs and outputs on any fsspec path (``file://``, ``memory://``, ``s3://`` …).

The readers in :mod:`voc.sources` work on local files (they detect encodings and
formats from bytes on disk), and the store flips a local symlink to publish
atomically. So a remote input is first copied into the store's cache, and a remote
output is a copy of the local store's current snapshot:

- :func:`ingest_anywhere` copies each URL source to ``OUT/cache/inputs`` and reads
  the copy; ``file`` in records and quarantine still names the URL.
- :func:`mirror_snapshot` copies a published snapshot to ``<url>/snapshots/<run id>``
  and only then writes ``<url>/CURRENT`` (the run id): a reader that follows
  ``CURRENT`` never sees a half-copied snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path

import fsspec

from voc.config import SourceConfig
from voc.errors import InputFileError, StoreError
from voc.sources import IngestResult, ingest_sources

log = logging.getLogger(__name__)


def is_url(path: str) -> bool:
    """Whether ``path`` is an fsspec URL (``protocol://…``) rather than a local path."""
    return "://" in path


def fetch(url: str, folder: Path) -> Path:
    """Copy the file at ``url`` into ``folder`` (keeping its name) and return the copy.

    Raises:
        InputFileError: the URL cannot be opened.
    """
    target = folder / hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]
    target.mkdir(parents=True, exist_ok=True)
    local = target / Path(url.split("://", 1)[1]).name
    try:
        with fsspec.open(url, "rb") as remote, local.open("wb") as copy:
            while chunk := remote.read(1 << 20):
                copy.write(chunk)
    except FileNotFoundError:
        raise InputFileError(f"{url}: file not found") from None
    except (OSError, ValueError, ImportError) as exc:
        raise InputFileError(f"{url}: cannot read it through fsspec: {exc}") from exc
    return local


def ingest_anywhere(
    sources: tuple[SourceConfig, ...],
    today: dt.date,
    folder: Path,
    watermarks: Mapping[str, tuple[str, str]] | None = None,
) -> IngestResult:
    """:func:`voc.sources.ingest_sources` for sources that may be fsspec URLs.

    Args:
        sources: Sources whose ``path`` is a local path or a URL.
        today: The run date.
        folder: Where URL sources are copied to before reading.
        watermarks: Passed on to :func:`voc.sources.ingest_sources` (PostgreSQL sources).
    """
    local_sources, urls = [], {}
    for source in sources:
        if isinstance(source, SourceConfig) and is_url(source.path):  # not PostgreSQL
            local = fetch(source.path, folder)
            urls[str(local)] = source.path
            source = source.model_copy(update={"path": str(local), "name": source.source_name})
        local_sources.append(source)
    result = ingest_sources(tuple(local_sources), today, watermarks)
    if urls:
        result.records["file"] = result.records["file"].replace(urls)
        result.quarantine["file"] = result.quarantine["file"].replace(urls)
    return result


def mirror_snapshot(snapshot: Path, url: str) -> str:
    """Copy a published snapshot folder to ``url`` and point ``url/CURRENT`` at it.

    Returns:
        The URL of the copied snapshot.

    Raises:
        StoreError: the target cannot be written.
    """
    target = f"{url.rstrip('/')}/snapshots/{snapshot.name}"
    try:
        fs, root = fsspec.core.url_to_fs(url)
        # trailing slashes: copy the folder's contents, so a second copy (a retry) overwrites
        # the first instead of nesting inside it
        fs.put(f"{snapshot}/", root.rstrip("/") + f"/snapshots/{snapshot.name}/", recursive=True)
        with fs.open(root.rstrip("/") + "/CURRENT", "w") as pointer:
            pointer.write(snapshot.name)
    except (OSError, ValueError, ImportError) as exc:
        raise StoreError(f"{url}: cannot copy the snapshot there: {exc}") from exc
    log.info("mirrored %s to %s", snapshot, target)
    return target
