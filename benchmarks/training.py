"""Training speed on the reference task: :func:`regutils.fit` against the usual alternatives.

The task is the Overfitting chapter's: :func:`regutils.reference_model` on
:func:`regutils.load_digits` (200 training images, 500 validation images), Adam with
lr 1e-3, :data:`EPOCHS` epochs, with mini-batches of 32 and with full batch. Every
contender trains the same freshly seeded model on the same tensors and, after every
epoch, does the same measuring work as :func:`regutils.fit`: loss and accuracy on the
whole training set and on the validation set, in eval mode, without gradients. What
each one does, exactly:

* ``hand-written loop`` -- the baseline: ``torch.randperm`` and index slicing of
  in-memory tensors, then one eval-mode forward pass over each whole set.
* ``regutils.fit`` -- the book's loop, as the chapters call it.
* ``regutils.fit, augment: identity`` -- the same with ``augment=`` set to a function
  that returns the batch unchanged: what the data-augmentation hook itself costs.
* ``regutils.fit, augment: shifts`` -- the same with the Data augmentation chapter's
  best setting, random shifts of every training image (``augmenter(max_shift=0.5)``):
  what augmenting costs. It trains on other inputs, so its accuracy differs.
* ``DataLoader loop`` -- the loop of the PyTorch tutorials: a shuffling
  ``DataLoader`` over a ``TensorDataset`` for training; for measuring, one
  ``DataLoader`` per set whose single batch is the whole set (so the forward work
  equals the others'), summing loss and correct predictions over its batches.
* ``skorch`` and ``Lightning`` -- see :mod:`benchmarks.peers`.

Timing starts once the model exists (seeding and building it are not timed) and stops
when training ends; a framework's own objects (optimizer, ``DataLoader``,
``NeuralNetClassifier``, ``Trainer``) are built inside the timed part, as using it
needs them. The final validation accuracy is then measured in the same way for all,
with :func:`regutils.evaluate`.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from regutils import (
    Split,
    augmenter,
    best,
    evaluate,
    fit,
    load_digits,
    reference_model,
    set_seed,
)
from regutils.train import fused_optimizer

EPOCHS = 100
LR = 1e-3
BATCH_SIZES: tuple[int | None, ...] = (32, None)  # None: full batch, one step per epoch
THREADS = 1  # torch threads for every contender: what regutils.fit uses by default

HAND = "hand-written loop"
REGUTILS = "regutils.fit"
FIT_IDENTITY = "regutils.fit, augment: identity"
FIT_SHIFTS = "regutils.fit, augment: shifts"
DATALOADER = "DataLoader loop"
SKORCH = "skorch"
LIGHTNING = "Lightning"

#: ``contender(model, data, epochs=..., batch_size=...)`` trains ``model`` in place.
Contender = Callable[..., None]
Pair = tuple[torch.Tensor, torch.Tensor]


def adam(params) -> torch.optim.Optimizer:
    """Adam as :func:`regutils.fit` builds it (fused where this torch has the kernel), for
    every contender: the benchmark compares training loops, not optimizer kernels."""
    return fused_optimizer(torch.optim.Adam, list(params), lr=LR)


#: Whether the installed torch has a fused Adam for the CPU (skorch is told to use it).
FUSED = bool(adam([nn.Parameter(torch.zeros(1))]).defaults.get("fused"))


@torch.no_grad()
def _measure(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Loss and accuracy on a whole set in one forward pass: what regutils.evaluate does."""
    out = model(X)
    return F.cross_entropy(out, y).item(), (out.argmax(dim=1) == y).float().mean().item()


def train_hand(model: nn.Module, data: Split, *, epochs: int, batch_size: int | None) -> None:
    """The minimal loop: random permutation, index slices, then measure both sets."""
    (X, y), (X_val, y_val) = data.train, data.val
    opt = adam(model.parameters())
    n = len(X)
    step = n if batch_size is None else batch_size
    history = []  # kept, as fit keeps its History, so the measuring work is the same
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n)
        for start in range(0, n, step):
            idx = order[start : start + step]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        history.append((_measure(model, X, y), _measure(model, X_val, y_val)))


def train_regutils(
    model: nn.Module, data: Split, *, epochs: int, batch_size: int | None, augment=None
) -> None:
    """The book's loop, called as the chapters call it."""
    # threads=None: the harness sets torch's threads once, the same for every contender
    fit(
        model,
        data.train,
        data.val,
        epochs=epochs,
        lr=LR,
        batch_size=batch_size,
        threads=None,
        augment=augment,
    )


def _identity(x: torch.Tensor, y: torch.Tensor) -> Pair:
    return x, y


def train_fit_identity(
    model: nn.Module, data: Split, *, epochs: int, batch_size: int | None
) -> None:
    """``fit`` with an augmentation that changes nothing: the hook's own cost."""
    train_regutils(model, data, epochs=epochs, batch_size=batch_size, augment=_identity)


def train_fit_shifts(model: nn.Module, data: Split, *, epochs: int, batch_size: int | None) -> None:
    """``fit`` with the Data augmentation chapter's best setting: random sub-pixel shifts."""
    shifts = augmenter(**best("augmentation"))
    train_regutils(model, data, epochs=epochs, batch_size=batch_size, augment=shifts)


@torch.no_grad()
def _measure_loader(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """Loss and accuracy summed over a DataLoader's batches, the tutorials' way."""
    loss_sum, correct, count = 0.0, 0, 0
    for xb, yb in loader:
        out = model(xb)
        loss_sum += F.cross_entropy(out, yb, reduction="sum").item()
        correct += (out.argmax(dim=1) == yb).sum().item()
        count += len(yb)
    return loss_sum / count, correct / count


def train_dataloader(model: nn.Module, data: Split, *, epochs: int, batch_size: int | None) -> None:
    """The tutorials' loop over a shuffling DataLoader; whole-set batches for measuring."""
    train_set, val_set = TensorDataset(*data.train), TensorDataset(*data.val)
    step = len(train_set) if batch_size is None else batch_size
    train_loader = DataLoader(train_set, batch_size=step, shuffle=True)
    measure_loaders = [DataLoader(s, batch_size=len(s)) for s in (train_set, val_set)]
    opt = adam(model.parameters())
    history = []
    for _ in range(epochs):
        model.train()
        for xb, yb in train_loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        history.append(tuple(_measure_loader(model, loader) for loader in measure_loaders))


def contenders(peers: bool = True) -> dict[str, Contender]:
    """The contenders by name, the baseline first; ``peers=False`` leaves out skorch and
    Lightning (their packages are installed by ``make bench`` only)."""
    found: dict[str, Contender] = {
        HAND: train_hand,
        REGUTILS: train_regutils,
        FIT_IDENTITY: train_fit_identity,
        FIT_SHIFTS: train_fit_shifts,
        DATALOADER: train_dataloader,
    }
    if peers:
        from benchmarks import peers as peer_module  # imports skorch and lightning

        found[SKORCH] = peer_module.train_skorch
        found[LIGHTNING] = peer_module.train_lightning
    return found


@dataclass
class Run:
    """One timed training run."""

    contender: str
    batch_size: int | None
    rep: int  # also the seed: every contender of a repetition starts from the same weights
    seconds: float
    val_acc: float


def rotated(names: list[str], rep: int) -> list[str]:
    """The running order of repetition ``rep``: each contender goes first in turn, so that
    none is always the one that runs on a cold cache or right after a slow neighbour.

    Example::

        >>> rotated(["a", "b", "c"], 1)
        ['b', 'c', 'a']
    """
    k = rep % len(names)
    return names[k:] + names[:k]


def time_once(
    contender: Contender, data: Split, *, seed: int, epochs: int, batch_size: int | None
) -> tuple[float, float]:
    """Seconds one contender takes to train a fresh reference model, and its final
    validation accuracy."""
    set_seed(seed)
    model = reference_model()
    gc.collect()  # so that no contender pays for collecting another's garbage
    start = time.perf_counter()
    contender(model, data, epochs=epochs, batch_size=batch_size)
    seconds = time.perf_counter() - start
    return seconds, evaluate(model, data.val)["acc"]


def time_contenders(
    found: dict[str, Contender],
    *,
    reps: int,
    epochs: int = EPOCHS,
    batch_sizes: tuple[int | None, ...] = BATCH_SIZES,
    threads: int = THREADS,
    data: Split | None = None,
    log: Callable[[str], None] = print,
) -> list[Run]:
    """Time every contender ``reps`` times per batch size, interleaved and rotated."""
    torch.set_num_threads(threads)  # once, for all: no contender sets its own
    data = load_digits() if data is None else data
    names = list(found)
    for name in names:  # warm-up, not timed: lazy imports, first-call allocations
        time_once(found[name], data, seed=0, epochs=1, batch_size=32)
    runs = []
    for batch_size in batch_sizes:
        for rep in range(reps):
            for name in rotated(names, rep):
                seconds, acc = time_once(
                    found[name], data, seed=rep, epochs=epochs, batch_size=batch_size
                )
                runs.append(Run(name, batch_size, rep, seconds, acc))
                log(f"  batch {batch_label(batch_size):>5}  rep {rep}  {name:<18} {seconds:7.3f} s")
    return runs


def batch_label(batch_size: int | None) -> str:
    return "full" if batch_size is None else str(batch_size)


#: How far a contender's median validation accuracy may be from the baseline's and still
#: count as training the same thing: 2 points is 10 of the 500 validation images, about
#: twice the spread between seeds of this task.
ACC_TOLERANCE = 0.02


def summarize(runs: list[Run]) -> list[dict]:
    """One row per (batch size, contender): medians, the ratio to the baseline, agreement.

    ``same_acc`` is ``"identical"`` when every repetition reached exactly the
    baseline's validation accuracy, ``"within 2 pts"`` when the medians are
    within :data:`ACC_TOLERANCE`, else ``"NO"``.
    """
    rows = []
    batch_sizes = list(dict.fromkeys(r.batch_size for r in runs))
    for batch_size in batch_sizes:
        mine = [r for r in runs if r.batch_size == batch_size]
        names = list(dict.fromkeys(r.contender for r in mine))
        by_name = {
            n: sorted((r for r in mine if r.contender == n), key=lambda r: r.rep) for n in names
        }
        base = by_name[HAND]
        base_s = statistics.median(r.seconds for r in base)
        base_acc = statistics.median(r.val_acc for r in base)
        for name, own in by_name.items():
            median_s = statistics.median(r.seconds for r in own)
            median_acc = statistics.median(r.val_acc for r in own)
            if [r.val_acc for r in own] == [r.val_acc for r in base]:
                same = "identical"
            elif abs(median_acc - base_acc) <= ACC_TOLERANCE:
                same = "within 2 pts"
            else:
                same = "NO"
            rows.append(
                {
                    "batch": batch_label(batch_size),
                    "contender": name,
                    "median_s": median_s,
                    "ratio": median_s / base_s,
                    "seconds": [r.seconds for r in own],
                    "median_val_acc": median_acc,
                    "val_acc": [r.val_acc for r in own],
                    "same_acc": same,
                }
            )
    return rows
