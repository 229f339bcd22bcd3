"""spaCy, imported without torch.

spaCy's machine-learning library, thinc, imports torch at start-up only to find out
whether it is installed. That costs about 2 s per process (measured: ``import
voc.pipeline`` 3.0-3.8 s with it, 1.7 s without), a tenth of a nightly run, and the
blank Chinese pipeline of :mod:`voc.segment` never uses it. So unless torch is loaded
already, it is hidden while spaCy loads: thinc records "no torch", and whatever imports
torch afterwards (the sentence-transformers embedder, BERTopic) still gets it.
"""

import sys

_HIDE_TORCH = "torch" not in sys.modules
if _HIDE_TORCH:
    sys.modules["torch"] = None  # `import torch` now raises ImportError
try:
    import spacy
    from spacy.language import Language
    from spacy.tokens import Doc
finally:
    if _HIDE_TORCH:
        del sys.modules["torch"]

__all__ = ["Doc", "Language", "spacy"]
