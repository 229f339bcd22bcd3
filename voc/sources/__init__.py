"""Ingest: read every configured source into one ``records`` table plus ``quarantine``.

A *record* is one piece of customer or agent text: a review, or one turn of a chat.
Records carry the document they belong to (``doc_id``: a review, or a chat session),
so ``documents`` are the records grouped by ``doc_id``. Every row read ends up either
as a record or as a quarantine row with its file, row, field and reason.
"""

from __future__ import annotations

from voc.sources.ingest import IngestResult, ingest_source, ingest_sources

__all__ = ["IngestResult", "ingest_source", "ingest_sources"]
