r"""Parameter norm penalties :math:`\Omega(w)`, for the ``penalty`` hook of :func:`regutils.fit`.

Which parameters are penalised: by default the *weights*, i.e. every parameter
with two or more dimensions (linear weight matrices, convolution kernels).
Biases and the scale and shift of normalisation layers are 1-D and left alone:
they do not multiply inputs, so shrinking them does not simplify the function
(Goodfellow, Bengio and Courville 2016, section 7.1).
"""

from __future__ import annotations

import torch
from torch import nn

from regutils._checks import check_float, check_module


def penalized_parameters(model: nn.Module, *, include_bias: bool = False) -> list[nn.Parameter]:
    """The parameters a norm penalty acts on: those with ``ndim >= 2``, or all of them.

    Args:
        model (nn.Module): the model.
        include_bias (bool): also include 1-D parameters (biases, norm-layer
            scales and shifts). Default: ``False``.

    Returns:
        list of Parameter: in ``model.parameters()`` order.

    Example::

        >>> net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
        >>> [tuple(p.shape) for p in penalized_parameters(net)]
        [(4, 3), (2, 4)]
    """
    check_module("model", model)
    if not isinstance(include_bias, bool):
        raise TypeError(f"include_bias must be a bool, but got {type(include_bias).__name__}")
    return [p for p in model.parameters() if include_bias or p.ndim >= 2]


def _zero(model: nn.Module) -> torch.Tensor:
    p = next(model.parameters(), None)
    return torch.zeros((), device=None if p is None else p.device)


def l1_penalty(model: nn.Module, lam: float, *, include_bias: bool = False) -> torch.Tensor:
    r"""The L1 penalty :math:`\Omega(w) = \lambda \|w\|_1 = \lambda \sum_j |w_j|`.

    No factor :math:`\tfrac12`: its (sub)gradient is :math:`\lambda\,\mathrm{sign}(w)`.
    Pushes weights to exactly zero when paired with a proximal step (L1 chapter).

    Args:
        model (nn.Module): the model (or one layer of it, e.g. ``model[0]``).
        lam (float): the strength :math:`\lambda \ge 0`.
        include_bias (bool): penalise 1-D parameters too. Default: ``False``.

    Returns:
        Tensor: a scalar, differentiable with respect to the weights.

    Example::

        >>> layer = nn.Linear(2, 1)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[3.0, -4.0]]))
        >>> l1_penalty(layer, lam=0.1)
        tensor(0.7000, grad_fn=<MulBackward0>)
    """
    lam = check_float("lam", lam, minimum=0.0)
    params = penalized_parameters(model, include_bias=include_bias)
    if not params:
        return _zero(model)
    return lam * sum(p.abs().sum() for p in params)


def l2_penalty(model: nn.Module, lam: float, *, include_bias: bool = False) -> torch.Tensor:
    r"""The L2 penalty :math:`\Omega(w) = \frac{\lambda}{2} \|w\|_2^2 = \frac{\lambda}{2} \sum_j w_j^2`.

    With the factor :math:`\tfrac12` the gradient is :math:`\lambda w`, so plain SGD
    on ``loss + l2_penalty(model, lam)`` takes the same steps as
    ``torch.optim.SGD(..., weight_decay=lam)``: "shrink, then step".

    Args:
        model (nn.Module): the model (or one layer of it).
        lam (float): the strength :math:`\lambda \ge 0`.
        include_bias (bool): penalise 1-D parameters too. Default: ``False``.

    Returns:
        Tensor: a scalar, differentiable with respect to the weights.

    Example::

        >>> layer = nn.Linear(2, 1)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[3.0, -4.0]]))
        >>> l2_penalty(layer, lam=0.1)
        tensor(1.2500, grad_fn=<MulBackward0>)
    """
    lam = check_float("lam", lam, minimum=0.0)
    params = penalized_parameters(model, include_bias=include_bias)
    if not params:
        return _zero(model)
    return 0.5 * lam * sum(p.pow(2).sum() for p in params)
