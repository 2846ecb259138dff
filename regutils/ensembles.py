r"""Ensembles and weight averaging: the helpers of the chapter "Ensembles and weight averaging".

An **ensemble** averages the predicted probabilities of :math:`M` members,

.. math::

    \bar p(y \mid x) = \frac{1}{M} \sum_{m=1}^{M} p_{w_m}(y \mid x),

(:func:`ensemble_probs`); the members differ by their seed, by a bootstrap resample of the
training set (**bagging**, :func:`bootstrap`), or are snapshots of one run taken at the ends
of the cycles of a restarted cosine learning rate (**snapshot ensembles**,
:class:`CosineCycles`). **Weight averaging** averages the weights instead, which gives one
network; it works only where the averaged weights lie in one basin of the loss, which
:func:`interpolate` measures along the straight line between two networks.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from regutils._checks import check_float, check_int, check_module
from regutils.callbacks import Callback, TrainState
from regutils.data import Split
from regutils.seed import numpy_generator
from regutils.train import as_pair, evaluate


@torch.no_grad()
def ensemble_probs(models: Sequence[nn.Module], X: torch.Tensor) -> torch.Tensor:
    r"""The members' mean predicted probabilities, :math:`\frac1M \sum_m \mathrm{softmax}(f_m(X))`.

    Each member is evaluated in evaluation mode (dropout off, batch norm on its running
    statistics) and returned to the mode it was in.

    Args:
        models (sequence of nn.Module): the :math:`M \ge 1` members, each mapping ``X`` to
            ``(N, classes)`` logits.
        X (Tensor): the inputs.

    Returns:
        Tensor: ``(N, classes)`` probabilities; each row sums to 1.

    Raises:
        TypeError, ValueError: if ``models`` is empty or holds something other than modules.

    Example::

        >>> a, b = nn.Linear(4, 3), nn.Linear(4, 3)
        >>> p = ensemble_probs([a, b], torch.randn(5, 4))
        >>> p.shape, bool(torch.allclose(p.sum(1), torch.ones(5)))
        (torch.Size([5, 3]), True)
    """
    if isinstance(models, nn.Module) or not isinstance(models, Sequence) or not models:
        raise TypeError(f"models must be a non-empty sequence of modules, but got {models!r}")
    total = None
    for i, model in enumerate(models):
        check_module(f"models[{i}]", model)
        was_training = model.training
        model.eval()
        try:
            p = torch.softmax(model(X), dim=1)
        finally:
            model.train(was_training)
        total = p if total is None else total + p
    return total / len(models)


def bootstrap(data: Split, seed: int) -> Split:
    r"""``data`` with its training set replaced by a bootstrap resample (bagging).

    Draws :math:`n` training images *with replacement* from the :math:`n` of ``data.train``
    (Breiman 1996): each image appears 0, 1, 2... times, and a resample holds on average
    :math:`1 - (1 - 1/n)^n \approx 63\%` of the distinct images. The validation and test
    sets are kept. The draw uses :func:`regutils.numpy_generator` (the seed shift applies).

    Args:
        data (Split): the data.
        seed (int): the resample's seed, >= 0.

    Returns:
        Split: ``(resampled train, data.val, data.test)``.

    Raises:
        TypeError, ValueError: if ``data`` is not a Split or ``seed`` is not an int >= 0.

    Example::

        >>> from regutils import load_digits
        >>> data = load_digits()
        >>> boot = bootstrap(data, seed=0)
        >>> len(boot.train[1]) == len(data.train[1]), boot.val is data.val
        (True, True)
    """
    if not isinstance(data, Split):
        raise TypeError(f"data must be a Split (see load_digits), but got {type(data).__name__}")
    check_int("seed", seed, minimum=0)
    X, y = data.train
    idx = torch.from_numpy(numpy_generator(seed).integers(0, len(y), size=len(y)))
    return Split((X[idx], y[idx]), data.val, data.test)


class CosineCycles(Callback):
    r"""A cosine learning rate restarted every ``cycle`` epochs; a snapshot at each cycle's end.

    The schedule of snapshot ensembles (Huang et al. 2017, equation 2), set before every
    mini-batch step: at step :math:`t` of a cycle of :math:`T` steps,

    .. math::

        \eta(t) = \frac{\eta_0}{2} \Bigl(\cos\frac{\pi\, t}{T} + 1\Bigr),
        \qquad t = 0, 1, \dots, T - 1,

    so the rate falls from :math:`\eta_0` towards 0 over each cycle and jumps back to
    :math:`\eta_0` at the next. At the end of every cycle the model's weights are copied
    into ``snapshots`` (a list of ``state_dict`` copies, oldest first).

    Args:
        cycle (int): epochs per cycle, >= 1.
        lr (float): :math:`\eta_0`, the rate at the start of each cycle, > 0.
        steps_per_epoch (int): mini-batch steps in one epoch, >= 1 (``ceil(n / batch)``).

    Attributes:
        snapshots (list of dict): the weights at the end of each completed cycle.

    Example::

        >>> from regutils import fit, load_digits, mlp
        >>> data = load_digits()
        >>> cycles = CosineCycles(cycle=2, lr=0.01, steps_per_epoch=7)
        >>> _ = fit(mlp(hidden=(8,)), data.train, epochs=4, batch_size=32, callbacks=[cycles])
        >>> len(cycles.snapshots)
        2
    """

    def __init__(self, *, cycle: int, lr: float, steps_per_epoch: int) -> None:
        self.cycle = check_int("cycle", cycle, minimum=1)
        self.lr = check_float("lr", lr, minimum=0.0, strict_min=True)
        self.steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        self.snapshots: list[dict[str, torch.Tensor]] = []
        self._step = 0

    def rate(self, step: int) -> float:
        """:math:`\\eta` at a mini-batch step counted from 0 since the start of training."""
        steps = self.cycle * self.steps_per_epoch
        return self.lr / 2 * (math.cos(math.pi * (step % steps) / steps) + 1)

    def _set(self, state: TrainState) -> None:
        for group in state.optimizer.param_groups:
            group["lr"] = self.rate(self._step)

    def on_fit_start(self, state: TrainState) -> None:
        self.snapshots, self._step = [], 0
        self._set(state)

    def on_batch_end(self, state: TrainState) -> None:
        self._step += 1
        self._set(state)  # the rate of the next step

    def on_epoch_end(self, state: TrainState) -> None:
        if state.epoch % self.cycle == 0:
            self.snapshots.append(copy.deepcopy(state.model.state_dict()))


def load_weights(model: nn.Module, weights: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of ``model`` holding ``weights`` (a ``state_dict``); ``model`` is left alone.

    Example::

        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> bool(torch.equal(load_weights(a, b.state_dict()).weight, b.weight))
        True
    """
    check_module("model", model)
    clone = copy.deepcopy(model)
    clone.load_state_dict(weights)
    return clone


@torch.no_grad()
def interpolate(
    model_a: nn.Module,
    model_b: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    *,
    alphas: Sequence[float] | int = 11,
) -> dict[str, np.ndarray]:
    r"""Loss and accuracy along the straight line between two networks' weights.

    For each :math:`\alpha`, the network with weights :math:`(1 - \alpha)\, w_a + \alpha\,
    w_b` (every parameter and floating-point buffer) is evaluated on ``data`` with
    :func:`regutils.evaluate`. Where the loss stays at or below the line between its two
    ends, the two networks lie in one basin (*linearly connected*); a bump above it is a
    **barrier** (:func:`barrier`, the form of Entezari et al. 2022; Frankle et al. 2020,
    section 2, measure the rise of the error over the mean of its two ends).

    Args:
        model_a, model_b (nn.Module): two networks of the same architecture.
        data: an ``(X, y)`` pair.
        alphas (sequence of float or int): the :math:`\alpha` values, or a number of evenly
            spaced values from 0 to 1. Default: 11.

    Returns:
        dict: ``"alpha"``, ``"loss"`` and ``"acc"`` (classification), arrays of one value
        per :math:`\alpha`.

    Raises:
        TypeError, ValueError: for modules whose weights differ in names or shapes, or bad
            ``alphas``.

    Example::

        >>> a = nn.Linear(2, 2)
        >>> path = interpolate(a, a, (torch.zeros(3, 2), torch.tensor([0, 1, 0])), alphas=3)
        >>> path["alpha"].tolist(), bool(np.ptp(path["loss"]) == 0)
        ([0.0, 0.5, 1.0], True)
    """
    check_module("model_a", model_a)
    check_module("model_b", model_b)
    data = as_pair("data", data)
    if isinstance(alphas, int) and not isinstance(alphas, bool):
        alphas = np.linspace(0.0, 1.0, check_int("alphas", alphas, minimum=2))
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or alphas.size == 0 or not np.isfinite(alphas).all():
        raise ValueError(f"alphas must be a 1-D sequence of finite numbers, but got {alphas!r}")
    wa, wb = model_a.state_dict(), model_b.state_dict()
    if wa.keys() != wb.keys() or any(wa[k].shape != wb[k].shape for k in wa):
        raise ValueError("model_a and model_b must have weights of the same names and shapes")
    mixed = copy.deepcopy(model_a)
    records = []
    for alpha in alphas:
        mixed.load_state_dict(
            {
                k: (1 - alpha) * wa[k] + alpha * wb[k] if wa[k].is_floating_point() else wa[k]
                for k in wa
            }
        )
        records.append(evaluate(mixed, data))
    out = {"alpha": alphas}
    for key in records[0]:
        out[key] = np.array([r[key] for r in records])
    return out


def barrier(alpha: Sequence[float], loss: Sequence[float]) -> float:
    r"""The height of the loss barrier along a path: :math:`\max_\alpha\, [\,L(\alpha) -
    ((1 - \alpha) L(0) + \alpha L(1))\,]`.

    How far the loss along the line rises above the straight line between its two ends
    (the form of Entezari et al. 2022); 0 when the loss never rises above that line (the
    two ends are then linearly connected). Frankle et al. (2020, section 2) measure the
    rise of the error over the *mean* of its two ends instead; the two differ by at most
    half the difference between the ends' values.

    Args:
        alpha (sequence of float): the :math:`\alpha` values, from 0 to 1 (first and last).
        loss (sequence of float): the loss at each.

    Returns:
        float: the largest excess of the loss over the line between its ends.

    Example::

        >>> barrier([0, 0.5, 1], [0.1, 0.9, 0.3])
        0.7
    """
    a = np.asarray(alpha, dtype=float)
    ell = np.asarray(loss, dtype=float)
    if a.ndim != 1 or a.shape != ell.shape or a.size < 2:
        raise ValueError(
            f"alpha and loss must be 1-D of the same length >= 2, but got {a.shape} and {ell.shape}"
        )
    line = (1 - a) * ell[0] + a * ell[-1]
    return round(float(np.max(ell - line)), 12)


__all__ = [
    "CosineCycles",
    "barrier",
    "bootstrap",
    "ensemble_probs",
    "interpolate",
    "load_weights",
]
