r"""Explicit constraints on the weights, enforced by projection after every step.

A constraint keeps the weights inside a set :math:`\mathcal{C}` instead of charging
for their size. Projected gradient descent takes the usual step, then maps the
weights back to the nearest point of :math:`\mathcal{C}`:

.. math::

    w \leftarrow \Pi_{\mathcal{C}}\big(w - \eta \nabla L(w)\big).

The max-norm constraint (Srebro and Shraibman 2005; used with dropout by
Srivastava et al. 2014) bounds the norm of each unit's incoming weight vector,
:math:`\lVert w_i \rVert_2 \le c`; its projection rescales every row that is too
long and leaves the others alone.
"""

from __future__ import annotations

import torch
from torch import nn

from regutils._checks import check_float, check_module
from regutils.callbacks import Callback, TrainState
from regutils.penalties import penalized_parameters


@torch.no_grad()
def max_norm_(weight: torch.Tensor, max_norm: float) -> torch.Tensor:
    r"""Project ``weight`` in place so that every unit's incoming weights have norm at most ``max_norm``.

    Row :math:`i` (``weight[i]``, all dimensions but the first: one output unit's
    incoming weights, for a linear layer or a convolution kernel) becomes

    .. math::

        w_i \leftarrow w_i \cdot \min\!\Big(1, \frac{c}{\lVert w_i \rVert_2}\Big),

    the nearest point, in Euclidean distance, with :math:`\lVert w_i \rVert_2 \le c`.
    The same as ``torch.renorm(weight, p=2, dim=0, maxnorm=c)`` up to rounding
    (``renorm`` divides by :math:`\lVert w_i \rVert_2 + 10^{-7}`).

    Dimension 0 must index the output units, as in ``nn.Linear`` ``(out, in)`` and
    ``nn.Conv*d`` ``(out, in / groups, *kernel)``. A transposed convolution
    (``nn.ConvTranspose*d``) stores ``(in, out / groups, *kernel)``: pass
    ``weight.transpose(0, 1)``, a view, to constrain its output units.

    Args:
        weight (Tensor): floating point, at least 2-D, ``(out_features, ...)``.
        max_norm (float): the radius :math:`c > 0`.

    Returns:
        Tensor: ``weight`` itself, modified in place.

    Raises:
        TypeError: if ``weight`` is not a floating-point tensor.
        ValueError: if ``weight`` has fewer than 2 dimensions or ``max_norm <= 0``.

    Example::

        >>> w = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
        >>> max_norm_(w, 1.0)
        tensor([[0.6000, 0.8000],
                [0.3000, 0.4000]])
    """
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, but got {type(weight).__name__}")
    if not weight.is_floating_point():
        raise TypeError(
            f"weight must be a floating-point tensor (a projection rescales it), but got "
            f"dtype {weight.dtype}"
        )
    if weight.ndim < 2:
        raise ValueError(
            f"weight must have at least 2 dimensions (one row per unit), but got shape "
            f"{tuple(weight.shape)}"
        )
    c = check_float("max_norm", max_norm, minimum=0.0, strict_min=True)
    norms = weight.flatten(1).norm(dim=1)  # (out_features,)
    scale = (c / norms.clamp_min(torch.finfo(weight.dtype).tiny)).clamp(max=1.0)
    return weight.mul_(scale.view(-1, *([1] * (weight.ndim - 1))))


class MaxNorm(Callback):
    r"""A max-norm constraint on every weight of ``module``, projected after every step.

    After each optimizer step (and once when training starts), every weight
    matrix or kernel of ``module`` (parameters with 2 or more dimensions; biases
    are free) is projected with :func:`max_norm_`, so that each unit's incoming
    weight vector has :math:`\lVert w_i \rVert_2 \le c`. Srivastava et al. (2014,
    section 5.1) used it with dropout; their appendix A.3 gives 3 to 4 as typical
    values of :math:`c`.

    Dimension 0 of every weight must index output units (``nn.Linear``,
    ``nn.Conv*d``); modules holding a transposed convolution, whose weight is
    ``(in, out / groups, ...)``, are rejected: project their weights yourself with
    ``max_norm_(layer.weight.data.transpose(0, 1), c)``.

    With ``module=None`` the constraint binds, at the start of every fit, to the
    whole model that fit trains: one instance then serves many runs, and a
    :class:`regutils.Recipe` given ``callbacks=[MaxNorm(None, c)]`` trains its
    seeds stacked, projecting every seed's weights after each step.

    Args:
        module (nn.Module or None): the part of the model to constrain, e.g. the
            whole model or ``model[0]``; ``None``: the model being trained.
        max_norm (float): the radius :math:`c > 0`.

    Raises:
        TypeError: if ``module`` is neither an ``nn.Module`` nor ``None``.
        ValueError: if ``max_norm <= 0``, ``module`` has no weight with 2 or
            more dimensions, or ``module`` holds an ``nn.ConvTranspose*d``.

    Example::

        >>> from regutils import fit, load_digits, mlp
        >>> model = mlp(hidden=(32,))
        >>> data = load_digits()
        >>> constraint = MaxNorm(model, max_norm=0.5)
        >>> constraint
        MaxNorm(max_norm=0.5)
        >>> _ = fit(model, data.train, epochs=2, lr=1e-2, callbacks=[constraint])
        >>> bool(model[0].weight.norm(dim=1).max() <= 0.5 + 1e-6)
        True
    """

    def __init__(self, module: nn.Module | None, max_norm: float) -> None:
        self.module = None if module is None else check_module("module", module)
        self.max_norm = check_float("max_norm", max_norm, minimum=0.0, strict_min=True)
        self.weights = [] if module is None else _unit_weights(module)

    def __repr__(self) -> str:
        return f"MaxNorm(max_norm={self.max_norm:g})"

    def project(self) -> None:
        """Project every constrained weight now."""
        for w in self.weights:
            max_norm_(w.data, self.max_norm)

    def on_fit_start(self, state: TrainState) -> None:
        if self.module is None:  # bind to the model this fit trains
            self.weights = _unit_weights(state.model)
        self.project()

    def on_batch_end(self, state: TrainState) -> None:
        self.project()


def _unit_weights(module: nn.Module) -> list[torch.Tensor]:
    """The weights of ``module`` whose dimension 0 indexes output units, checked."""
    for name, sub in module.named_modules():
        if isinstance(sub, nn.modules.conv._ConvTransposeNd):
            raise ValueError(
                f"module must not hold a transposed convolution, whose weight is "
                f"(in, out / groups, ...) rather than one row per output unit, but "
                f"{name or 'module'} is {type(sub).__name__}: use "
                f"max_norm_(layer.weight.data.transpose(0, 1), c) for it"
            )
    weights = penalized_parameters(module)
    if not weights:
        raise ValueError(
            "module must hold at least one weight with 2 or more dimensions, "
            f"but got {type(module).__name__} with none"
        )
    return weights


def unit_norms(module: nn.Module) -> torch.Tensor:
    r"""The norms of the incoming weight vectors of every unit of ``module``, concatenated.

    For every weight of ``module`` with 2 or more dimensions (biases excluded), in
    the order of ``module.parameters()``, the norm :math:`\lVert w_i \rVert_2` of each
    row ``weight[i]`` (all dimensions but the first): one entry per output unit.

    Args:
        module (nn.Module): a layer or a model, e.g. ``reference_model()``.

    Returns:
        Tensor: 1-D, detached, one norm per unit (522 for the reference network:
        256 + 256 + 10).

    Raises:
        TypeError: if ``module`` is not an ``nn.Module``.
        ValueError: if ``module`` has no weight with 2 or more dimensions (e.g.
            ``nn.ReLU()``), or holds an ``nn.ConvTranspose*d``, whose dimension 0
            does not index output units.

    Example::

        >>> layer = nn.Linear(2, 2)
        >>> with torch.no_grad():
        ...     _ = layer.weight.copy_(torch.tensor([[3.0, 4.0], [0.0, 1.0]]))
        >>> unit_norms(layer)
        tensor([5., 1.])
    """
    check_module("module", module)
    return torch.cat([p.detach().flatten(1).norm(dim=1) for p in _unit_weights(module)])


__all__ = ["MaxNorm", "max_norm_", "unit_norms"]
