"""voc: voice-of-the-customer mining for Chinese e-commerce text.

The library is a chain of table-to-table steps (see ``ARCHITECTURE.md``)::

    sources -> documents -> units -> embeddings -> labels -> topics -> aggregates -> publish

Every step lives in its own module and is a plain function or a small estimator;
``voc.pipeline`` wires them together and ``pipelines/`` runs them under Prefect.
"""

__version__ = "0.1.0"
