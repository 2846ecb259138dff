"""How sure a classifier is, and whether it should be.

* :func:`confidence`: the mean top probability on right and on wrong answers;
* :func:`mc_predict`: Monte Carlo dropout;
* calibration: :func:`reliability` and :func:`expected_calibration_error` (is a network that
  says 90% right 90% of the time?), and :func:`temperature_scale`, the one-number fix of
  Guo et al. (2017).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from regutils._checks import check_float, check_int, check_module
from regutils.train import as_pair, cpu_threads

#: The dropout layers that :func:`mc_predict` switches on (and their subclasses).
#: Dropout applied with ``torch.nn.functional.dropout`` inside a ``forward`` is not
#: a layer and is not switched on.
DROPOUT_LAYERS = (
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
)


@torch.no_grad()
def mc_predict(
    model: nn.Module, X: torch.Tensor, *, passes: int, threads: int | None = 1
) -> torch.Tensor:
    r"""Class probabilities from ``passes`` forward passes with dropout left on.

    Every pass draws new dropout masks, so each is the prediction of a different
    thinned network; their mean is the Monte Carlo estimate of the averaged
    prediction, and their spread measures how much the thinned networks disagree
    (Gal and Ghahramani 2016):

    .. math::

        \hat p(y \mid x) = \frac{1}{T} \sum_{t=1}^{T} \operatorname{softmax}
        \big(f_{w \odot m_t}(x)\big), \qquad m_t \text{ a fresh dropout mask.}

    Only the dropout layers are put in training mode; every other layer (batch
    normalization in particular) stays in evaluation mode, and every layer is
    returned to the exact mode it was in, module by module. Dropout applied with
    ``F.dropout`` inside a ``forward`` is not a layer and is not switched on (it
    follows whatever ``training=`` argument the model passes it): give such a
    model ``nn.Dropout`` layers. The masks are drawn from the global torch random
    number generator, so ``torch.manual_seed`` before the call makes it
    reproducible, and the call advances that generator.

    Args:
        model (nn.Module): a classifier returning logits, with at least one
            layer of one of the types in ``regutils.uncertainty.DROPOUT_LAYERS``.
        X (Tensor): inputs, ``(N, ...)``, on the model's device.
        passes (int): number of stochastic passes :math:`T`, >= 1.
        threads (int, optional): torch CPU threads while it runs, as in
            :func:`regutils.fit`; ``None`` keeps torch's setting. Default: 1.

    Returns:
        Tensor: probabilities of shape ``(passes, N, classes)``; each row sums to 1.

    Raises:
        TypeError: if ``model`` is not an ``nn.Module`` or ``X`` not a tensor.
        ValueError: if ``passes`` or ``threads`` < 1, or the model has no dropout layer (every
            pass would be the same).

    Example::

        >>> _ = torch.manual_seed(0)
        >>> model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3))
        >>> probs = mc_predict(model, torch.randn(5, 4), passes=20)
        >>> probs.shape
        torch.Size([20, 5, 3])
        >>> torch.allclose(probs.sum(dim=2), torch.ones(20, 5))
        True
        >>> bool(probs.std(dim=0).max() > 0), model.training
        (True, True)
    """
    check_module("model", model)
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor, but got {type(X).__name__}")
    passes = check_int("passes", passes, minimum=1)
    if threads is not None:
        threads = check_int("threads", threads, minimum=1)
    dropouts = [m for m in model.modules() if isinstance(m, DROPOUT_LAYERS)]
    if not dropouts:
        raise ValueError(
            "model must contain a dropout layer (nn.Dropout, nn.Dropout2d, ...), but got "
            "none: every pass would give the same prediction"
        )
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        for layer in dropouts:
            layer.train()
        with cpu_threads(threads):
            probs = [torch.softmax(model(X), dim=-1) for _ in range(passes)]
    finally:
        for module, mode in modes.items():
            module.training = mode
    return torch.stack(probs)  # (passes, N, classes)


class Confidence(NamedTuple):
    """Mean top probability on wrong and on right answers, and the number of mistakes."""

    wrong: float
    right: float
    mistakes: int


@torch.no_grad()
def confidence(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor]) -> Confidence:
    r"""How sure a classifier is of its answers, wrong and right, in evaluation mode.

    The confidence of an answer is the largest softmax probability,
    :math:`\max_k p_k(x)`. The mean is taken separately over the images the
    model gets wrong and over those it gets right (``nan`` for an empty group).

    Args:
        model (nn.Module): a classifier returning logits; it is left in
            evaluation mode.
        data: an ``(X, y)`` pair of tensors.

    Returns:
        Confidence: ``(wrong, right, mistakes)``, a named tuple.

    Example::

        >>> model = nn.Linear(2, 2)
        >>> with torch.no_grad():
        ...     _ = model.weight.copy_(torch.eye(2) * 10)
        ...     _ = model.bias.zero_()
        >>> c = confidence(model, (torch.eye(2), torch.tensor([0, 0])))
        >>> c.mistakes, round(c.right, 4), round(c.wrong, 4)
        (1, 1.0, 1.0)
    """
    check_module("model", model)
    X, y = as_pair("data", data)
    probs = model.eval()(X).softmax(dim=1)  # (N, classes)
    top, guess = probs.max(dim=1)
    wrong = guess != y
    return Confidence(top[wrong].mean().item(), top[~wrong].mean().item(), int(wrong.sum()))


def _probs_and_targets(probs: object, targets: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Check ``probs`` is ``(N, classes)`` of rows summing to 1 and ``targets`` ``(N,)`` labels."""
    if not isinstance(probs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            "probs and targets must be torch.Tensors, but got "
            f"{type(probs).__name__} and {type(targets).__name__}"
        )
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(f"probs must have shape (N, classes), but got {tuple(probs.shape)}")
    if targets.shape != (len(probs),) or torch.is_floating_point(targets):
        raise ValueError(
            f"targets must be {len(probs)} integer labels, shape ({len(probs)},), but got "
            f"{targets.dtype} of shape {tuple(targets.shape)}"
        )
    probs = probs.detach().double()
    if (probs < 0).any() or not torch.allclose(probs.sum(dim=1), torch.ones(len(probs)).double(),
                                               atol=1e-4):  # fmt: skip
        raise ValueError(
            "probs must hold probabilities (rows >= 0 summing to 1); for logits, pass "
            "logits.softmax(dim=1)"
        )
    return probs, targets.detach()


class Reliability(NamedTuple):
    """Confidence bins: their edges, and per bin the mean confidence, accuracy and count."""

    edges: np.ndarray  # (bins + 1,)
    confidence: np.ndarray  # (bins,), nan for an empty bin
    accuracy: np.ndarray  # (bins,), nan for an empty bin
    count: np.ndarray  # (bins,)


def reliability(probs: torch.Tensor, targets: torch.Tensor, *, bins: int = 10) -> Reliability:
    r"""Accuracy against confidence, in equal-width bins of the top probability.

    Each prediction's confidence is its top probability :math:`\hat p_i = \max_k p_{ik}`; the
    predictions are put in ``bins`` equal-width bins of :math:`(0, 1]` by it (bin :math:`b`
    holds :math:`\frac{b-1}{M} < \hat p_i \le \frac{b}{M}`), and each bin gets its mean
    confidence and its accuracy. A calibrated classifier has the two equal in every bin
    (Guo et al. 2017): the diagonal of a reliability diagram
    (:func:`regutils.plot_reliability`).

    Args:
        probs (Tensor): ``(N, classes)`` class probabilities (softmax outputs).
        targets (Tensor): ``(N,)`` integer labels.
        bins (int): number of bins :math:`M`. Default: 10.

    Returns:
        Reliability: ``(edges, confidence, accuracy, count)``.

    Raises:
        TypeError, ValueError: for inputs of the wrong type or shape, or ``probs`` that are not
            probabilities.

    Example::

        >>> probs = torch.tensor([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.3, 0.7]])
        >>> r = reliability(probs, torch.tensor([0, 1, 0, 1]), bins=2)
        >>> r.count.tolist(), r.confidence.round(3).tolist(), r.accuracy.tolist()
        ([0, 4], [nan, 0.787], [nan, 0.75])
    """
    probs, targets = _probs_and_targets(probs, targets)
    bins = check_int("bins", bins, minimum=1)
    top, guess = probs.max(dim=1)
    right = (guess == targets).double()
    edges = np.linspace(0.0, 1.0, bins + 1)
    # bin b holds (edges[b], edges[b+1]]; a confidence of exactly 0 cannot occur (top >= 1/C)
    which = torch.clamp(torch.ceil(top * bins).long() - 1, 0, bins - 1)
    count = torch.bincount(which, minlength=bins).double()
    conf_sum = torch.zeros(bins, dtype=torch.float64).index_add_(0, which, top)
    right_sum = torch.zeros(bins, dtype=torch.float64).index_add_(0, which, right)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence_ = (conf_sum / count).numpy()
        accuracy = (right_sum / count).numpy()
    return Reliability(edges, confidence_, accuracy, count.long().numpy())


def expected_calibration_error(
    probs: torch.Tensor, targets: torch.Tensor, *, bins: int = 10
) -> float:
    r"""Expected calibration error: the gap between confidence and accuracy, bin by bin.

    .. math::

        \mathrm{ECE} = \sum_{b=1}^{M} \frac{|B_b|}{N}
            \,\bigl|\operatorname{acc}(B_b) - \operatorname{conf}(B_b)\bigr|

    with the bins :math:`B_b` of :func:`reliability` (Naeini et al. 2015; Guo et al. 2017).
    0 for a calibrated classifier; it has a small positive bias on few images, and depends on
    the number of bins, so compare values computed the same way.

    Args:
        probs (Tensor): ``(N, classes)`` class probabilities.
        targets (Tensor): ``(N,)`` integer labels.
        bins (int): number of equal-width bins. Default: 10.

    Returns:
        float: the ECE, in [0, 1].

    Example::

        >>> probs = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
        >>> targets = torch.tensor([0, 1, 0, 1])  # 90% sure: half right; 60% sure: all right
        >>> round(expected_calibration_error(probs, targets), 4)
        0.4
        >>> expected_calibration_error(probs, targets, bins=2)  # one bin: 75% sure, 75% right
        0.0
    """
    r = reliability(probs, targets, bins=bins)
    filled = r.count > 0
    weights = r.count[filled] / r.count.sum()
    return float(np.sum(weights * np.abs(r.accuracy[filled] - r.confidence[filled])))


def temperature_scale(
    logits: torch.Tensor, targets: torch.Tensor, *, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    r"""The temperature :math:`T` that minimizes the cross-entropy of ``softmax(logits / T)``.

    Temperature scaling (Guo et al. 2017) divides every logit of a trained network by one
    number :math:`T > 0`, fitted on held-out data (the validation set, never the test set):

    .. math::

        T^\star = \arg\min_{T} \; -\frac{1}{N} \sum_i \log \operatorname{softmax}
            (z_i / T)_{y_i}.

    :math:`T > 1` softens an over-confident network, :math:`T < 1` sharpens an
    under-confident one. It changes no prediction (the largest logit stays the largest), so
    the accuracy is unchanged: only the confidence, and with it the loss, move. The loss is
    convex in :math:`1/T`, so the minimum is found by a bounded scalar search.

    Args:
        logits (Tensor): ``(N, classes)`` outputs of the network, before the softmax.
        targets (Tensor): ``(N,)`` integer labels.
        bounds (pair of float): the range of :math:`T` searched. Default: (0.05, 20).

    Returns:
        float: :math:`T^\star`.

    Raises:
        TypeError, ValueError: for inputs of the wrong type or shape, or bad bounds.

    Example::

        >>> g = torch.Generator().manual_seed(0)
        >>> z = 2 * torch.randn(2000, 3, generator=g)  # labels drawn from softmax(z):
        >>> y = torch.multinomial(z.softmax(dim=1), 1, generator=g).squeeze(1)
        >>> round(temperature_scale(z, y), 1), round(temperature_scale(3 * z, y), 1)
        (1.0, 3.0)
    """
    from scipy.optimize import minimize_scalar

    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            "logits and targets must be torch.Tensors, but got "
            f"{type(logits).__name__} and {type(targets).__name__}"
        )
    if logits.ndim != 2 or targets.shape != (len(logits),) or torch.is_floating_point(targets):
        raise ValueError(
            "logits must have shape (N, classes) and targets be N integer labels, but got "
            f"{tuple(logits.shape)} and {targets.dtype} {tuple(targets.shape)}"
        )
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (low, high), but got {bounds!r}")
    low = check_float("bounds[0]", bounds[0], minimum=0.0, strict_min=True)
    high = check_float("bounds[1]", bounds[1], minimum=low, strict_min=True)
    z, y = logits.detach().double(), targets.detach()

    def loss(beta: float) -> float:  # beta = 1 / T: the loss is convex in beta
        return F.cross_entropy(z * beta, y).item()

    found = minimize_scalar(loss, bounds=(1 / high, 1 / low), method="bounded",
                            options={"xatol": 1e-6})  # fmt: skip
    return float(1 / found.x)


__all__ = [
    "DROPOUT_LAYERS",
    "Confidence",
    "Reliability",
    "confidence",
    "expected_calibration_error",
    "mc_predict",
    "reliability",
    "temperature_scale",
]
