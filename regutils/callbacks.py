"""Callbacks: code that runs at fixed points of :func:`regutils.fit`.

A callback overrides any of the no-op hooks of :class:`Callback`. Each hook gets the
:class:`TrainState`; a callback ends training by setting ``state.stop = True``
(it never raises to stop). :class:`EarlyStopping` is the main example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from regutils._checks import check_choice, check_float, check_int
from regutils.history import History


@dataclass
class TrainState:
    """What callbacks see: the model, the optimizer, the history so far, the flag to stop."""

    model: nn.Module
    optimizer: torch.optim.Optimizer | None
    history: History = field(default_factory=History)
    epoch: int = 0  # the epoch in progress, counting from 1
    metrics: dict[str, float] = field(default_factory=dict)  # the last epoch's record
    stop: bool = False


class Callback:
    """Base class with a no-op hook for every point of the training loop.

    Order inside :func:`regutils.fit`::

        on_fit_start
        for each epoch:
            on_epoch_start
            for each mini-batch: forward, loss + penalty, backward, step, on_batch_end
            (metrics are measured and recorded)
            on_epoch_end          # may set state.stop = True
        on_fit_end
    """

    def on_fit_start(self, state: TrainState) -> None:
        pass

    def on_epoch_start(self, state: TrainState) -> None:
        pass

    def on_batch_end(self, state: TrainState) -> None:
        pass

    def on_epoch_end(self, state: TrainState) -> None:
        pass

    def on_fit_end(self, state: TrainState) -> None:
        pass


class EarlyStopping(Callback):
    r"""Stop training when a monitored metric has stopped improving.

    After every epoch the metric is compared with the best value so far. It
    improves when it beats the best by more than ``min_delta``
    (:math:`v < v_\text{best} - \delta` for ``mode="min"``,
    :math:`v > v_\text{best} + \delta` for ``mode="max"``). After ``patience``
    epochs in a row without improvement, training stops. With
    ``restore_best_weights`` the model ends with the weights of the best epoch,
    and ``history.restored_epoch`` says which one.

    The state (best value, counter, saved weights) is reset at the start of every
    fit, so one instance can be reused.

    Args:
        monitor (str): ``"val_loss"``, ``"val_acc"``, ``"train_loss"`` or ``"train_acc"``. Default: ``"val_loss"``.
        mode (str): ``"min"`` (losses) or ``"max"`` (accuracies). Default: ``"min"``.
        patience (int): epochs without improvement before stopping, >= 1. Default: 5.
        min_delta (float): smallest change that counts as improvement, >= 0.
            Default: 0.0.
        restore_best_weights (bool): load the best epoch's weights at the end.
            Default: ``True``.

    Attributes:
        best_epoch (int or None): the epoch with the best value.
        best_value (float): the best value seen.
        stopped_epoch (int or None): the epoch training stopped at, ``None`` if it
            ran to the end.

    Raises:
        ValueError: for an unknown ``monitor`` or ``mode`` (the message lists the
            valid ones), or a metric that fit did not record.

    Example::

        >>> stopper = EarlyStopping(monitor="val_loss", patience=2)
        >>> stopper
        EarlyStopping(monitor='val_loss', mode='min', patience=2, min_delta=0, restore_best_weights=True)
    """

    MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")
    MODES = ("min", "max")

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "min",
        *,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        self.monitor = check_choice("monitor", monitor, self.MONITORS)
        self.mode = check_choice("mode", mode, self.MODES)
        self.patience = check_int("patience", patience, minimum=1)
        self.min_delta = check_float("min_delta", min_delta, minimum=0.0)
        if not isinstance(restore_best_weights, bool):
            raise TypeError(
                "restore_best_weights must be a bool, "
                f"but got {type(restore_best_weights).__name__}"
            )
        self.restore_best_weights = restore_best_weights
        self._reset()

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, mode={self.mode!r}, "
            f"patience={self.patience}, min_delta={self.min_delta:g}, "
            f"restore_best_weights={self.restore_best_weights})"
        )

    def _reset(self) -> None:
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._best_weights: dict[str, torch.Tensor] | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def on_fit_start(self, state: TrainState) -> None:
        self._reset()

    def on_epoch_end(self, state: TrainState) -> None:
        if self.monitor not in state.metrics:
            recorded = ", ".join(repr(k) for k in state.metrics if k != "epoch")
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, but fit recorded only {recorded}: "
                "pass validation data to fit, or monitor one of those"
            )
        value = float(state.metrics[self.monitor])
        if self._improved(value):
            self.best_value, self.best_epoch, self.wait = value, state.epoch, 0
            if self.restore_best_weights:
                self._best_weights = {
                    k: v.detach().clone() for k, v in state.model.state_dict().items()
                }
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = state.epoch
            state.stop = True

    def on_fit_end(self, state: TrainState) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            state.model.load_state_dict(self._best_weights)
            state.history.restored_epoch = self.best_epoch

    def replay(self, history: History) -> History:
        """What this rule would have done to a run that was trained to the end.

        The recorded epochs are fed to the rule one by one, as :func:`regutils.fit` feeds
        them; the result is the :class:`regutils.History` that run would have returned: cut
        after the stopping epoch, with ``restored_epoch`` the best one (when weights are
        restored), so that its :attr:`~regutils.History.final` metrics, held-out sets
        recorded with ``fit(track=...)`` included, are those of the weights early stopping
        keeps. Training beyond a stopping point does not change the epochs before it, so a
        replay equals a real early-stopped run, and one full run can be replayed for many
        patiences; runs trained stacked (:class:`regutils.Recipe`, which takes no
        callbacks) get early stopping this way.

        Args:
            history (History): a run's records, one per epoch from epoch 1.

        Returns:
            History: the records up to the stopping epoch, with ``restored_epoch`` set.

        Raises:
            TypeError: if ``history`` is not a History.
            ValueError: if it does not record the monitored metric.

        Example::

            >>> h = History([{"epoch": e, "val_loss": v} for e, v in
            ...              enumerate([0.9, 0.5, 0.6, 0.7, 0.4, 0.8], start=1)])
            >>> short = EarlyStopping(patience=2).replay(h)
            >>> len(short), short.restored_epoch, short.final["val_loss"]
            (4, 2, 0.5)
        """
        if not isinstance(history, History):
            raise TypeError(f"history must be a History, but got {type(history).__name__}")
        state = TrainState(model=nn.Identity(), optimizer=None)
        restore, self.restore_best_weights = self.restore_best_weights, False  # no weights here
        try:
            self.on_fit_start(state)
            for record in history.records:
                state.epoch, state.metrics = record["epoch"], record
                self.on_epoch_end(state)
                if state.stop:
                    break
        finally:
            self.restore_best_weights = restore
        kept = History(list(history.records[: state.epoch]))
        if restore:
            kept.restored_epoch = self.best_epoch
        return kept


class ForEachModel(Callback):
    """A callback built afresh for each model that training starts on.

    Some callbacks act on one layer of one model (e.g.
    :class:`regutils.ProximalL1` on ``model[0]``), but a :class:`regutils.Recipe`
    builds a new model for every seed. ``ForEachModel(build)`` calls
    ``build(model)`` at the start of every fit and forwards every hook to the
    callback it returns.

    Args:
        build (callable): ``build(model) -> Callback``.

    Raises:
        TypeError: if ``build`` is not callable, or (at the start of a fit) does not
            return a :class:`Callback`.

    Example::

        >>> from regutils import ProximalL1, Recipe
        >>> first_layer_l1 = ForEachModel(lambda model: ProximalL1(model[0], lam=0.3))
        >>> recipe = Recipe(callbacks=[first_layer_l1])  # each seed's own first layer
    """

    def __init__(self, build) -> None:
        if not callable(build):
            raise TypeError(f"build must be a callable build(model) -> Callback, but got {build!r}")
        self.build = build
        self.inner: Callback | None = None

    def __repr__(self) -> str:
        return f"ForEachModel({getattr(self.build, '__name__', repr(self.build))})"

    def on_fit_start(self, state: TrainState) -> None:
        inner = self.build(state.model)
        if not isinstance(inner, Callback):
            raise TypeError(f"build(model) must return a Callback, but got {type(inner).__name__}")
        self.inner = inner
        inner.on_fit_start(state)

    def on_epoch_start(self, state: TrainState) -> None:
        self.inner.on_epoch_start(state)

    def on_batch_end(self, state: TrainState) -> None:
        self.inner.on_batch_end(state)

    def on_epoch_end(self, state: TrainState) -> None:
        self.inner.on_epoch_end(state)

    def on_fit_end(self, state: TrainState) -> None:
        self.inner.on_fit_end(state)
