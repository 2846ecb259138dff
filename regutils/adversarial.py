r"""Adversarial examples and adversarial training: FGSM, PGD and their checks.

An *adversarial example* is an input moved by a small, worst-case perturbation
:math:`\delta` inside an :math:`L_\infty` ball of radius :math:`\varepsilon` (every pixel moves
by at most :math:`\varepsilon`) and kept in the valid pixel range :math:`[0, 1]`:

.. math::

    \max_{\lVert \delta \rVert_\infty \le \varepsilon,\ x + \delta \in [0, 1]^d}
        \ell(f_w(x + \delta), y).

:func:`fgsm` takes one step along the sign of the input gradient (Goodfellow, Shlens and
Szegedy, 2015, section 4); :func:`pgd` takes several smaller ones, projecting back into the
ball and the pixel range after each (Madry et al., 2018, section 2.1). :func:`adversarial_augment`
turns an attack into an ``augment`` for :func:`regutils.fit`, which trains on the attacked
batch: adversarial training. :func:`sign_noise` is the random counterpart of the same size
(before clipping to [0, 1]), and :class:`Quantize` the input quantization of the
gradient-masking pitfall (Athalye, Carlini and Wagner, 2018).

The attacks run the model in evaluation mode (dropout off, batch norm on its running
statistics) and restore its mode; they differentiate the loss with respect to the input
only (``torch.autograd.grad``), so the parameters' ``.grad`` are left as they were.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from regutils._checks import check_choice, check_float, check_int, check_module
from regutils.train import as_pair

Pair = tuple[torch.Tensor, torch.Tensor]
ATTACKS = ("fgsm", "pgd")


def _check_eps(eps: object) -> float:
    return check_float("eps", eps, minimum=0.0)


def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""The gradient of the mean cross-entropy with respect to the inputs, :math:`\nabla_x \ell`.

    The model runs in evaluation mode (its mode is restored); the parameters' ``.grad``
    are not touched.

    Args:
        model (nn.Module): a classifier returning logits.
        x (Tensor): inputs, ``(N, ...)``.
        y (Tensor): integer labels, ``(N,)``.

    Returns:
        Tensor: the gradient, the shape of ``x``.

    Example::

        >>> model = nn.Linear(2, 2, bias=False)
        >>> input_gradient(model, torch.zeros(1, 2), torch.tensor([0])).shape
        torch.Size([1, 2])
    """
    check_module("model", model)
    x, y = as_pair("(x, y)", (x, y))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    finally:
        model.train(was_training)
    return grad


def project(
    x_adv: torch.Tensor, x: torch.Tensor, eps: float, *, lower: float = 0.0, upper: float = 1.0
) -> torch.Tensor:
    r"""Project ``x_adv`` into the :math:`L_\infty` ball of radius ``eps`` around ``x``,
    then into the pixel range ``[lower, upper]``.

    .. math::

        \Pi(x') = \operatorname{clip}_{[l, u]}\big(\operatorname{clip}_{[x - \varepsilon,
            x + \varepsilon]}(x')\big)

    When ``x`` lies in ``[lower, upper]`` the result is in both sets: the intersection of
    two boxes is a box, and clipping to one then the other lands in it.

    Args:
        x_adv (Tensor): the moved inputs.
        x (Tensor): the clean inputs, the same shape.
        eps (float): the radius, >= 0.
        lower, upper (float): the valid range. Default: 0 and 1.

    Returns:
        Tensor: the projected inputs.

    Example::

        >>> project(torch.tensor([0.5, 1.3, -0.2]), torch.tensor([0.2, 0.9, 0.05]), 0.1)
        tensor([0.3000, 1.0000, 0.0000])
    """
    eps = _check_eps(eps)
    if x_adv.shape != x.shape:
        raise ValueError(
            f"x_adv and x must have the same shape, but got {tuple(x_adv.shape)} "
            f"and {tuple(x.shape)}"
        )
    moved = torch.maximum(torch.minimum(x_adv, x + eps), x - eps)
    return moved.clamp(lower, upper)


def fgsm(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    lower: float = 0.0,
    upper: float = 1.0,
) -> torch.Tensor:
    r"""The fast gradient sign method (Goodfellow, Shlens and Szegedy, 2015, section 4).

    .. math::

        x_\text{adv} = \operatorname{clip}_{[0, 1]}\big(x + \varepsilon \operatorname{sign}
            \nabla_x \ell(f_w(x), y)\big)

    One step, the best move against a loss linear in :math:`x` within the
    :math:`L_\infty` ball.

    Args:
        model (nn.Module): a classifier returning logits.
        x (Tensor): clean inputs in ``[lower, upper]``, ``(N, ...)``.
        y (Tensor): integer labels, ``(N,)``.
        eps (float): the budget, the largest change of one pixel, >= 0.
        lower, upper (float): the valid range. Default: 0 and 1.

    Returns:
        Tensor: the attacked inputs, detached, the shape of ``x``.

    Example::

        >>> model = nn.Linear(2, 2, bias=False)
        >>> with torch.no_grad():
        ...     _ = model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        >>> fgsm(model, torch.tensor([[0.5, 0.5]]), torch.tensor([0]), 0.1)
        tensor([[0.4000, 0.6000]])
    """
    eps = _check_eps(eps)
    grad = input_gradient(model, x, y)
    return (x + eps * grad.sign()).clamp(lower, upper).detach()


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = False,
    restarts: int = 1,
    generator: torch.Generator | None = None,
    lower: float = 0.0,
    upper: float = 1.0,
) -> torch.Tensor:
    r"""Projected gradient descent on the negative loss (Madry et al., 2018, section 2.1).

    .. math::

        x^{t+1} = \Pi\big(x^t + \alpha \operatorname{sign} \nabla_x \ell(f_w(x^t), y)\big),

    where :math:`\Pi` is :func:`regutils.adversarial.project` (the :math:`L_\infty` ball and ``[lower, upper]``)
    and :math:`x^0 = x`, or a uniform random point of the ball with ``random_start``. With
    ``restarts`` > 1 it runs that many times from random starts and keeps, image by image,
    the attacked input with the highest loss. One step of size ``eps`` from ``x`` is
    :func:`fgsm`.

    Args:
        model (nn.Module): a classifier returning logits.
        x (Tensor): clean inputs in ``[lower, upper]``.
        y (Tensor): integer labels.
        eps (float): the budget, >= 0.
        steps (int): gradient steps, >= 1. Default: 10.
        step_size (float, optional): :math:`\alpha`. Default: ``2.5 * eps / steps`` (a
            common choice: together, the steps can cross the ball from any start).
        random_start (bool): start from a uniform random point of the ball. Default: ``False``.
        restarts (int): random restarts, >= 1; more than one needs ``random_start``.
            Default: 1.
        generator (torch.Generator, optional): for the random starts, e.g.
            ``regutils.torch_generator(seed)``. Default: torch's global generator.
        lower, upper (float): the valid range. Default: 0 and 1.

    Returns:
        Tensor: the attacked inputs, detached.

    Raises:
        ValueError: for ``restarts`` > 1 without ``random_start``, or bad values.

    Example::

        >>> model = nn.Linear(2, 2)
        >>> x, y = torch.rand(4, 2), torch.tensor([0, 1, 0, 1])
        >>> torch.equal(pgd(model, x, y, 0.1, steps=1, step_size=0.1), fgsm(model, x, y, 0.1))
        True
    """
    eps = _check_eps(eps)
    steps = check_int("steps", steps, minimum=1)
    restarts = check_int("restarts", restarts, minimum=1)
    alpha = 2.5 * eps / steps if step_size is None else step_size
    alpha = check_float("step_size", alpha, minimum=0.0)
    if not isinstance(random_start, bool):
        raise TypeError(f"random_start must be a bool, but got {type(random_start).__name__}")
    if restarts > 1 and not random_start:
        raise ValueError(
            f"restarts > 1 needs random_start=True (every restart would repeat the same "
            f"attack), but got restarts={restarts} and random_start=False"
        )
    best, best_loss = x.detach().clone(), None
    for _ in range(restarts):
        x_adv = x.detach().clone()
        if random_start:
            noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            x_adv = project(x_adv + eps * (2 * noise - 1), x, eps, lower=lower, upper=upper)
        for _ in range(steps):
            grad = input_gradient(model, x_adv, y)
            x_adv = project(x_adv + alpha * grad.sign(), x, eps, lower=lower, upper=upper)
        if restarts == 1:
            return x_adv.detach()
        with torch.no_grad():
            was_training = model.training
            model.eval()
            loss = F.cross_entropy(model(x_adv), y, reduction="none")
            model.train(was_training)
        if best_loss is None:
            best, best_loss = x_adv, loss
        else:
            better = loss > best_loss
            best = torch.where(better.view(-1, *[1] * (x.dim() - 1)), x_adv, best)
            best_loss = torch.maximum(loss, best_loss)
    return best.detach()


def attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    method: str = "fgsm",
    **options,
) -> torch.Tensor:
    """:func:`fgsm` or :func:`pgd` by name; ``options`` go to :func:`pgd`.

    Example::

        >>> model = nn.Linear(2, 2)
        >>> attack(model, torch.rand(3, 2), torch.tensor([0, 1, 1]), 0.1).shape
        torch.Size([3, 2])
    """
    check_choice("method", method, ATTACKS)
    if method == "fgsm":
        if options:
            raise TypeError(f"fgsm takes no options, but got {sorted(options)}")
        return fgsm(model, x, y, eps)
    return pgd(model, x, y, eps, **options)


def robust_accuracy(
    model: nn.Module,
    data: Pair,
    eps: float,
    *,
    method: str = "fgsm",
    **options,
) -> float:
    r"""Accuracy of ``model`` on ``data`` attacked with budget ``eps`` (in ``[0, 1]``).

    At ``eps = 0`` it is the clean accuracy.

    Args:
        model (nn.Module): a classifier returning logits.
        data: an ``(X, y)`` pair.
        eps (float): the budget, >= 0.
        method (str): ``"fgsm"`` or ``"pgd"``. Default: ``"fgsm"``.
        **options: for :func:`pgd` (``steps``, ``step_size``, ``random_start``, ...).

    Returns:
        float: the fraction of attacked images still classified right.

    Example::

        >>> model = nn.Linear(2, 2)
        >>> 0.0 <= robust_accuracy(model, (torch.rand(5, 2), torch.zeros(5).long()), 0.1) <= 1
        True
    """
    X, y = as_pair("data", data)
    x_adv = attack(model, X, y, eps, method=method, **options)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return (model(x_adv).argmax(dim=1) == y).float().mean().item()
    finally:
        model.train(was_training)


def adversarial_augment(
    model: nn.Module,
    eps: float,
    *,
    method: str = "fgsm",
    clean: bool = True,
    **options,
) -> Callable[[torch.Tensor, torch.Tensor], Pair]:
    r"""An ``augment`` for :func:`regutils.fit` that trains on adversarial examples.

    Every training batch :math:`(x, y)` is attacked on the model as it is at that step;
    with ``clean`` (Goodfellow et al., 2015, section 6, with their weight of one half) the
    batch becomes the clean and the attacked images together, so the step minimizes

    .. math::

        \tfrac12\, \ell(f_w(x), y) + \tfrac12\, \ell(f_w(x_\text{adv}), y);

    without it, only the attacked images (Madry et al., 2018, section 2.1). The attack's
    own backward pass touches the inputs only; ``fit`` clears the parameters' gradients
    before its step anyway.

    It must close over the model that ``fit`` trains, so it cannot train stacked: a
    :class:`regutils.Recipe` builds and trains its own networks, and the attack would run on
    the network the closure holds, not on the weights being trained. Train adversarially
    with :func:`regutils.fit`, one seed after another.

    Args:
        model (nn.Module): the model being trained.
        eps (float): the budget, >= 0.
        method (str): ``"fgsm"`` or ``"pgd"``. Default: ``"fgsm"``.
        clean (bool): keep the clean batch too. Default: ``True``.
        **options: for :func:`pgd`.

    Returns:
        callable: ``augment(x, y) -> (x, y)``.

    Example::

        >>> model = nn.Linear(2, 2)
        >>> x, y = adversarial_augment(model, 0.1)(torch.rand(4, 2), torch.tensor([0, 1, 0, 1]))
        >>> x.shape, y.shape
        (torch.Size([8, 2]), torch.Size([8]))
    """
    check_module("model", model)
    eps = _check_eps(eps)
    check_choice("method", method, ATTACKS)
    if not isinstance(clean, bool):
        raise TypeError(f"clean must be a bool, but got {type(clean).__name__}")

    def augment(x: torch.Tensor, y: torch.Tensor) -> Pair:
        x_adv = attack(model, x, y, eps, method=method, **options)
        if not clean:
            return x_adv, y
        return torch.cat([x, x_adv]), torch.cat([y, y])

    return augment


def sign_noise(
    eps: float, *, clean: bool = True, lower: float = 0.0, upper: float = 1.0
) -> Callable[[torch.Tensor, torch.Tensor], Pair]:
    r"""An ``augment`` of random noise the size of an FGSM step: :math:`\pm\varepsilon` per pixel.

    .. math::

        \tilde x = \operatorname{clip}_{[0, 1]}(x + \varepsilon s), \qquad s_j = \pm 1
            \text{ with probability } \tfrac12 \text{ each},

    the same :math:`L_\infty` and :math:`L_2` size as :func:`fgsm`'s perturbation before
    clipping to :math:`[0, 1]`, in a random direction instead of the worst one: the fair random
    counterpart of adversarial training.
    It draws from torch's global generator, so :class:`regutils.Recipe` can train it stacked.

    Args:
        eps (float): the size, >= 0.
        clean (bool): keep the clean batch too, as :func:`adversarial_augment`. Default: ``True``.
        lower, upper (float): the valid range. Default: 0 and 1.

    Returns:
        callable: ``augment(x, y) -> (x, y)``.

    Example::

        >>> x, y = sign_noise(0.1, clean=False)(torch.full((2, 3), 0.5), torch.tensor([0, 1]))
        >>> bool(((x - 0.5).abs() - 0.1).abs().max() < 1e-6)
        True
    """
    eps = _check_eps(eps)
    if not isinstance(clean, bool):
        raise TypeError(f"clean must be a bool, but got {type(clean).__name__}")

    def augment(x: torch.Tensor, y: torch.Tensor) -> Pair:
        signs = torch.randint(0, 2, x.shape, dtype=x.dtype, device=x.device) * 2 - 1
        noisy = (x + eps * signs).clamp(lower, upper)
        if not clean:
            return noisy, y
        return torch.cat([x, noisy]), torch.cat([y, y])

    return augment


class _RoundStraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, levels: int) -> torch.Tensor:  # noqa: ARG004
        return torch.round(x * levels) / levels

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ARG004
        return grad, None


class Quantize(nn.Module):
    r"""Round every input to the nearest of ``levels + 1`` values in ``[0, 1]``.

    .. math::

        q(x) = \operatorname{round}(L x) / L

    A "defense" of the gradient-masking kind: rounding is flat almost everywhere, so its
    gradient is zero and a gradient attack through it does not move at all, although the
    model behind it is as fragile as before (Athalye, Carlini and Wagner, 2018, section 4.1).
    With ``straight_through``, the backward pass treats it as the identity (BPDA: the
    forward pass rounds, the gradient is that of a differentiable stand-in, :math:`q(x)
    \approx x`), and the attack works again.

    Args:
        levels (int): :math:`L`, >= 1. The digits' pixels are multiples of 1/16, so
            ``levels=16`` leaves every clean image exactly as it is.
        straight_through (bool): identity gradient. Default: ``False``.

    Example::

        >>> Quantize(4)(torch.tensor([0.1, 0.2, 0.9]))
        tensor([0.0000, 0.2500, 1.0000])
    """

    def __init__(self, levels: int, *, straight_through: bool = False) -> None:
        super().__init__()
        self.levels = check_int("levels", levels, minimum=1)
        if not isinstance(straight_through, bool):
            raise TypeError(
                f"straight_through must be a bool, but got {type(straight_through).__name__}"
            )
        self.straight_through = straight_through

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.straight_through:
            return _RoundStraightThrough.apply(x, self.levels)
        return torch.round(x * self.levels) / self.levels

    def extra_repr(self) -> str:
        return f"levels={self.levels}, straight_through={self.straight_through}"


__all__ = [
    "ATTACKS",
    "Quantize",
    "adversarial_augment",
    "attack",
    "fgsm",
    "input_gradient",
    "pgd",
    "project",
    "robust_accuracy",
    "sign_noise",
]
