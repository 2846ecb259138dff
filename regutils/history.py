"""What :func:`regutils.fit` returns: one record of metrics per epoch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from regutils._checks import check_choice


@dataclass
class History:
    """Per-epoch metrics of one training run.

    ``records`` is a list with one dict per epoch, e.g.
    ``{"epoch": 3, "train_loss": 0.41, "train_acc": 0.93, "val_loss": 0.52, "val_acc": 0.88}``.
    Epochs count from 1. Losses are the data loss alone (without the penalty), and
    training metrics are measured on the whole training set in evaluation mode
    after the epoch, so train and validation numbers are directly comparable.
    Accuracies appear only for classification.

    Two histories are equal when every number is equal: with the same seed, the
    same :func:`regutils.fit` on the CPU gives equal histories.

    Example::

        >>> h = History()
        >>> h.append({"epoch": 1, "train_loss": 0.9, "val_loss": 1.0})
        >>> h.append({"epoch": 2, "train_loss": 0.5, "val_loss": 0.8})
        >>> h.val_loss, h.best_epoch
        ([1.0, 0.8], 2)
        >>> h.to_frame()
               train_loss  val_loss
        epoch
        1             0.9       1.0
        2             0.5       0.8
    """

    records: list[dict[str, float]] = field(default_factory=list)
    #: the epoch whose weights the model holds after fit, when a callback such as
    #: EarlyStopping restored earlier weights; ``None`` means the last epoch.
    restored_epoch: int | None = None
    #: measurements of the trained model that a run adds itself, e.g.
    #: ``history.info["weight_norm"] = weight_norm(model)``; :func:`regutils.summarize`
    #: averages them over seeds like the final metrics. Not part of equality.
    info: dict[str, float] = field(default_factory=dict, compare=False)

    def append(self, record: dict[str, float]) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    @property
    def metrics(self) -> list[str]:
        """Names of the recorded metrics, e.g. ``["train_loss", "val_loss"]``."""
        return [k for k in self.records[0] if k != "epoch"] if self.records else []

    def metric(self, name: str) -> list[float]:
        """The values of one metric, one per epoch."""
        if self.records:
            check_choice("name", name, self.metrics)
        return [r[name] for r in self.records]

    @property
    def epochs(self) -> list[int]:
        return [int(r["epoch"]) for r in self.records]

    @property
    def train_loss(self) -> list[float]:
        return self.metric("train_loss")

    @property
    def val_loss(self) -> list[float]:
        return self.metric("val_loss")

    @property
    def train_acc(self) -> list[float]:
        return self.metric("train_acc")

    @property
    def val_acc(self) -> list[float]:
        return self.metric("val_acc")

    @property
    def best_epoch(self) -> int | None:
        """The epoch with the lowest validation loss (training loss without validation)."""
        if not self.records:
            return None
        key = "val_loss" if "val_loss" in self.records[0] else "train_loss"
        values = [r[key] if math.isfinite(r[key]) else math.inf for r in self.records]
        return self.epochs[values.index(min(values))]

    @property
    def final(self) -> dict[str, float]:
        """The record of the weights the model ends with (the restored epoch, if any)."""
        if not self.records:
            raise ValueError("the history is empty: fit recorded no epoch")
        if self.restored_epoch is None:
            return dict(self.records[-1])
        return dict(self.records[self.epochs.index(self.restored_epoch)])

    def to_frame(self) -> pd.DataFrame:
        """The history as a DataFrame indexed by epoch, one column per metric."""
        return pd.DataFrame.from_records(self.records).set_index("epoch")
