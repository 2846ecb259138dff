"""How sure a classifier is: its confidence on right and wrong answers, and Monte Carlo dropout."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from regutils._checks import check_int, check_module
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


__all__ = ["DROPOUT_LAYERS", "Confidence", "confidence", "mc_predict"]
