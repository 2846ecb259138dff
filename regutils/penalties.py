r"""Parameter norm penalties :math:`\Omega(w)`, for the ``penalty`` hook of :func:`regutils.fit`,
the proximal L1 step, and measures of the weights (norm, sparsity).

Which parameters are penalized: by default the *weights*, i.e. every parameter
with two or more dimensions (linear weight matrices, convolution kernels).
Biases and the scale and shift of normalization layers are 1-D and left alone:
they do not multiply inputs, so shrinking them does not simplify the function
(Goodfellow, Bengio and Courville 2016, section 7.1).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from regutils._checks import check_float, check_module
from regutils.callbacks import Callback, TrainState


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
        include_bias (bool): penalize 1-D parameters too. Default: ``False``.

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
        include_bias (bool): penalize 1-D parameters too. Default: ``False``.

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


def soft_tying_penalty(
    model: nn.Module,
    anchor: nn.Module | Mapping[str, torch.Tensor],
    lam: float,
    *,
    include_bias: bool = False,
) -> torch.Tensor:
    r"""Soft parameter tying: an L2 penalty towards other weights, not towards zero.

    .. math::

        \Omega(w) = \frac{\lambda}{2} \lVert w - w_A \rVert_2^2
                   = \frac{\lambda}{2} \sum_j (w_j - w_{A,j})^2,

    with :math:`w_A` the weights of ``anchor``, matched to ``model``'s by parameter
    name and held fixed (no gradient reaches them). With :math:`w_A` the weights of
    a model trained on a related, larger task this is L2-SP (Li, Grandvalet and
    Davoine 2018); with :math:`w_A = 0` it is :func:`l2_penalty`. Its gradient is
    :math:`\lambda (w - w_A)`.

    Args:
        model (nn.Module): the model being trained (or the part of it to tie,
            e.g. ``model[:-1]`` without its output layer).
        anchor (nn.Module or mapping): a module with the same parameter names
            and shapes, or a ``{name: tensor}`` mapping such as a state dict.
            Its tensors are converted to each parameter's dtype and device on
            every call: an anchor kept on the CPU is copied to the GPU each
            time, so move it to the model's device once beforehand.
        lam (float): the strength :math:`\lambda \ge 0`.
        include_bias (bool): tie 1-D parameters too. Default: ``False``.

    Returns:
        Tensor: a scalar, differentiable with respect to ``model``'s weights.

    Raises:
        TypeError: if ``model`` or ``anchor`` has the wrong type, or an entry of
            ``anchor`` for a tied parameter is not a tensor.
        ValueError: if a tied parameter of ``model`` has no counterpart of the
            same shape in ``anchor``.

    Example::

        >>> layer, anchor = nn.Linear(2, 1), nn.Linear(2, 1)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[3.0, -4.0]]))
        ...     _ = anchor.weight.copy_(torch.tensor([[1.0, -4.0]]))
        >>> soft_tying_penalty(layer, anchor, lam=0.1)
        tensor(0.2000, grad_fn=<MulBackward0>)
    """
    check_module("model", model)
    lam = check_float("lam", lam, minimum=0.0)
    if isinstance(anchor, nn.Module):
        targets = dict(anchor.named_parameters())
    elif isinstance(anchor, Mapping):
        targets = dict(anchor)
    else:
        raise TypeError(
            f"anchor must be an nn.Module or a mapping of name -> tensor, "
            f"but got {type(anchor).__name__}"
        )
    if not isinstance(include_bias, bool):
        raise TypeError(f"include_bias must be a bool, but got {type(include_bias).__name__}")
    total = _zero(model)
    for name, p in model.named_parameters():
        if p.ndim < 2 and not include_bias:
            continue
        target = targets.get(name)
        if target is not None and not isinstance(target, torch.Tensor):
            raise TypeError(
                f"anchor[{name!r}] must be a torch.Tensor, but got {type(target).__name__}"
            )
        if target is None or target.shape != p.shape:
            found = "nothing" if target is None else f"shape {tuple(target.shape)}"
            raise ValueError(
                f"anchor must hold a tensor of shape {tuple(p.shape)} named {name!r}, "
                f"but has {found}: tie only the layers the two models share"
            )
        total = total + (p - target.detach().to(p)).pow(2).sum()
    return 0.5 * lam * total


def soft_threshold(w: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""The soft-threshold operator, the proximal step of the L1 norm.

    .. math::

        S_t(w) = \operatorname{sign}(w)\,\max(|w| - t,\ 0)
               = \operatorname*{arg\,min}_v \tfrac12 (v - w)^2 + t\,|v|

    Each entry moves ``t`` towards zero and stops *at* zero: entries with
    :math:`|w| \le t` become exactly 0. That is why L1 with a proximal step gives
    exact zeros, where a (sub)gradient step only makes weights hover near zero.

    Args:
        w (Tensor): any shape.
        t (float or Tensor): the threshold, >= 0; a tensor broadcastable to ``w``
            gives each entry its own threshold.

    Returns:
        Tensor: same shape as ``w``.

    Example::

        >>> soft_threshold(torch.tensor([-2.0, -0.5, 0.3, 3.0]), 1.0).tolist()
        [-1.0, 0.0, 0.0, 2.0]
    """
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor, but got {type(w).__name__}")
    if isinstance(t, torch.Tensor):
        if not bool((t >= 0).all()):
            raise ValueError(f"t must be >= 0 everywhere, but got a minimum of {t.min().item():g}")
    else:
        t = check_float("t", t, minimum=0.0)
    # where() rather than sign(w) * max(|w| - t, 0), so zeroed entries are +0.0, not -0.0
    return torch.where(w.abs() > t, w - t * w.sign(), torch.zeros_like(w))


class ProximalL1(Callback):
    r"""L1 regularization by a proximal step after every optimizer step.

    After each step, every weight of ``module`` (biases excluded, as in
    :func:`l1_penalty`) is soft-thresholded by :math:`\eta\lambda`, with
    :math:`\eta` the learning rate of its parameter group:

    .. math::

        w \leftarrow S_{\eta\lambda}(w)

    With plain SGD this is proximal gradient descent on
    :math:`L(w) + \lambda\|w\|_1` (ISTA), and weights land on exactly zero. With
    Adam, whose steps are rescaled per weight, it is a widely used heuristic
    rather than an exact proximal method; it still produces exact zeros.

    Args:
        module (nn.Module): the part of the model to sparsify, e.g. ``model[0]``.
        lam (float): the strength :math:`\lambda \ge 0`.

    Raises:
        TypeError: if ``module`` is not an ``nn.Module``.
        ValueError: if ``lam < 0`` or ``module`` has no weight with 2 or more
            dimensions (e.g. a dropout or noise layer), where the callback
            would silently do nothing.

    Example::

        >>> from regutils import fit, load_digits, mlp
        >>> model = mlp(hidden=(32,))
        >>> data = load_digits()
        >>> prox = ProximalL1(model[0], lam=1.0)
        >>> _ = fit(model, data.train, epochs=3, lr=1e-2, batch_size=32, callbacks=[prox])
        >>> sparsity(model[0]) > 0.5
        True
    """

    def __init__(self, module: nn.Module, lam: float) -> None:
        self.module = check_module("module", module)
        self.lam = check_float("lam", lam, minimum=0.0)
        if not penalized_parameters(module):
            raise ValueError(
                "module must hold at least one weight with 2 or more dimensions, "
                f"but got {type(module).__name__} with none"
            )

    def __repr__(self) -> str:
        return f"ProximalL1(lam={self.lam:g})"

    @torch.no_grad()
    def on_batch_end(self, state: TrainState) -> None:
        weights = {id(p) for p in penalized_parameters(self.module)}
        for group in state.optimizer.param_groups:
            for p in group["params"]:
                if id(p) in weights:
                    p.copy_(soft_threshold(p, group["lr"] * self.lam))


def weight_norm(model: nn.Module, *, include_bias: bool = False) -> float:
    r"""The Euclidean norm :math:`\|w\|_2` of the weights a penalty would act on.

    Example::

        >>> layer = nn.Linear(2, 1)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[3.0, -4.0]]))
        >>> weight_norm(layer)
        5.0
    """
    params = penalized_parameters(model, include_bias=include_bias)
    return float(torch.sqrt(sum(p.detach().pow(2).sum() for p in params))) if params else 0.0


def sparsity(model: nn.Module, *, include_bias: bool = False) -> float:
    """The fraction of weights that are exactly zero, in [0, 1].

    Example::

        >>> layer = nn.Linear(4, 1)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[0.0, 1.0, 0.0, 2.0]]))
        >>> sparsity(layer)
        0.5
    """
    params = penalized_parameters(model, include_bias=include_bias)
    total = sum(p.numel() for p in params)
    zeros = sum(int((p == 0).sum()) for p in params)
    return zeros / total if total else 0.0
