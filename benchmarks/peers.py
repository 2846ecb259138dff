"""The skorch and PyTorch Lightning contenders of :mod:`benchmarks.training`.

Both train the same model with the same Adam and batches, and measure after every
epoch what :func:`regutils.fit` measures, in the way each framework is usually
configured:

* ``skorch`` -- ``NeuralNetClassifier`` with ``CrossEntropyLoss`` and the validation
  set as a predefined split. Its default callbacks run (epoch timer, running train
  loss, validation loss, validation accuracy); its validation pass is one
  eval-mode batch of the whole set (``iterator_valid__batch_size=-1``), and one
  callback, :class:`TrainSetMetrics`, adds what skorch does not measure by
  itself: loss and accuracy on the whole training set in eval mode.
* ``Lightning`` -- a ``LightningModule`` around the model and a CPU ``Trainer``
  without logger, checkpointing, progress bar, model summary or sanity-check
  validation. Its validation loop runs over two loaders whose single batch is the
  whole training set and the whole validation set, and logs loss and accuracy of
  each with ``self.log``.

This module imports skorch and lightning: ``make bench`` installs them from
``benchmarks/requirements.txt``; the book itself does not need them.
"""

from __future__ import annotations

import logging
import warnings

import lightning.pytorch as pl
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from benchmarks.training import FUSED, LR, adam
from regutils import Split

# Lightning reports its set-up (no GPU, no TPU...) through logging, and warns that a
# DataLoader without worker processes may be slow; neither applies to in-memory digits.
# Lightning 2.6 also builds torch's deprecated pytree LeafSpec, which torch 2.14 warns about
# every Trainer.fit: noise in the benchmark's output, not a problem in what it measures.
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)


class TrainSetMetrics(Callback):
    """Loss and accuracy on the whole training set in eval mode, after every epoch."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor) -> None:
        self.X, self.y = X, y

    # skorch calls every hook with keyword arguments for all it knows; **kwargs takes
    # the ones this callback does not use, as skorch's own callbacks do.
    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs) -> None:
        out = net.evaluation_step((self.X, self.y), training=False)  # eval mode, no grad
        loss = net.get_loss(out, self.y, X=self.X, training=False).item()
        acc = (out.argmax(dim=1) == self.y).float().mean().item()
        net.history.record("train_eval_loss", loss)
        net.history.record("train_acc", acc)


def train_skorch(model: nn.Module, data: Split, *, epochs: int, batch_size: int | None) -> None:
    """skorch's NeuralNetClassifier, validating on the validation set every epoch."""
    X, y = data.train
    net = NeuralNetClassifier(
        model,  # an instance: skorch trains it in place, from the seeded weights
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        **({"optimizer__fused": True} if FUSED else {}),
        max_epochs=epochs,
        batch_size=-1 if batch_size is None else batch_size,  # -1: the whole set
        iterator_train__shuffle=True,
        iterator_valid__batch_size=-1,  # measure each set in one batch, as fit does
        train_split=predefined_split(Dataset(*data.val)),
        callbacks=[TrainSetMetrics(X, y)],
        device="cpu",
        verbose=0,
    )
    net.fit(X, y)


class LitClassifier(pl.LightningModule):
    """The model, its loss, its optimizer and its per-epoch measurements, for Lightning."""

    SPLITS = ("train", "val")  # the order of the validation loaders

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int):
        x, y = batch
        return F.cross_entropy(self.model(x), y)

    def validation_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        x, y = batch
        out = self.model(x)
        split = self.SPLITS[dataloader_idx]
        acc = (out.argmax(dim=1) == y).float().mean()
        for name, value in (("loss", F.cross_entropy(out, y)), ("acc", acc)):
            self.log(f"{split}_{name}", value, batch_size=len(y), add_dataloader_idx=False)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return adam(self.parameters())


def train_lightning(model: nn.Module, data: Split, *, epochs: int, batch_size: int | None) -> None:
    """A Lightning Trainer on the CPU, stripped of logging, checkpoints and progress bars."""
    train_set, val_set = TensorDataset(*data.train), TensorDataset(*data.val)
    step = len(train_set) if batch_size is None else batch_size
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,  # fit does not validate before training either
    )
    trainer.fit(
        LitClassifier(model),
        train_dataloaders=DataLoader(train_set, batch_size=step, shuffle=True),
        val_dataloaders=[DataLoader(s, batch_size=len(s)) for s in (train_set, val_set)],
    )
