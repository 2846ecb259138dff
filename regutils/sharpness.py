r"""How sharp a minimum is: the top eigenvalue of the loss's Hessian, and its caveat.

* :func:`hessian_vector_product`: :math:`H v` by differentiating :math:`\nabla L \cdot v`
  (Pearlmutter 1994), without ever forming :math:`H`;
* :func:`top_hessian_eigenvalue`: the eigenvalue of largest magnitude of the Hessian of the
  loss on a data set, by power iteration on Hessian-vector products;
* :func:`rescale_relu_layers`: the same function with other weights (Dinh et al. 2017):
  multiply one linear layer by :math:`\alpha` and the next by :math:`1/\alpha` across a
  ReLU, and the outputs do not change while the sharpness does.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from regutils._checks import check_float, check_int, check_module
from regutils.seed import torch_generator
from regutils.train import as_pair, cpu_threads


def hessian_vector_product(
    loss: torch.Tensor, params: Sequence[torch.Tensor], v: Sequence[torch.Tensor]
) -> list[torch.Tensor]:
    r"""The product of the Hessian of ``loss`` with ``v``, without forming the Hessian.

    .. math::

        H v = \nabla_w \big( \nabla_w L(w) \cdot v \big),

    two backward passes (Pearlmutter 1994). The gradient is taken with
    ``create_graph=True``; the graph of ``loss`` is kept, so the product can be called
    again with another ``v``.

    Args:
        loss (Tensor): a scalar computed from ``params``.
        params (sequence of Tensor): the parameters, each with ``requires_grad``.
        v (sequence of Tensor): one tensor per parameter, of the same shape.

    Returns:
        list of Tensor: :math:`H v`, one tensor per parameter.

    Raises:
        ValueError: if ``loss`` is not a scalar or ``v`` does not match ``params``.

    Example::

        >>> w = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> loss = w[0] ** 2 * w[1]  # H = [[2 w1, 2 w0], [2 w0, 0]] = [[4, 2], [2, 0]]
        >>> hessian_vector_product(loss, [w], [torch.tensor([1.0, 0.0])])[0]
        tensor([4., 2.])
    """
    params, v = list(params), list(v)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError(f"loss must be a scalar tensor, but got {type(loss).__name__}")
    if len(v) != len(params) or any(a.shape != b.shape for a, b in zip(params, v)):
        raise ValueError(
            f"v must hold one tensor per parameter, of the same shapes, but got shapes "
            f"{[tuple(t.shape) for t in v]} for parameters {[tuple(p.shape) for p in params]}"
        )
    grads = torch.autograd.grad(loss, params, create_graph=True)
    dot = sum((g * u).sum() for g, u in zip(grads, v))
    return list(torch.autograd.grad(dot, params, retain_graph=True))


def top_hessian_eigenvalue(
    model: nn.Module,
    data: object,
    *,
    iterations: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
    threads: int | None = 1,
) -> float:
    r"""The Hessian eigenvalue of largest magnitude of the cross-entropy loss on ``data``.

    Power iteration: from a random unit vector :math:`v_0`, repeat
    :math:`v_{k+1} = H v_k / \lVert H v_k \rVert`; the Rayleigh quotient
    :math:`\lambda_k = v_k^\top H v_k` tends to the eigenvalue of largest magnitude
    (Golub and Van Loan 2013, section 8.2). Each step is one Hessian-vector product
    (:func:`hessian_vector_product`) on the mean loss over all of ``data`` (one batch), with
    the model in evaluation mode (no dropout); its mode is restored. It stops when
    :math:`\lambda` changes by less than ``tol`` relative to its size, or after
    ``iterations`` steps; at that cap it returns its current estimate without a warning,
    which, when the top eigenvalues are close, can fall slightly short of the true one.
    Near a minimum the Hessian is close to positive semi-definite and
    this is the largest eigenvalue, the usual measure of *sharpness*; far from one, a
    negative eigenvalue can be the largest in magnitude, and the sign says so.

    Sharpness is not a property of the function alone: :func:`rescale_relu_layers` gives
    the same function another value (Dinh et al. 2017).

    Args:
        model (nn.Module): a classifier returning logits.
        data: ``(X, y)`` with integer labels, or a ``TensorDataset``.
        iterations (int): the most power-iteration steps, >= 1. Default: 100.
        tol (float): relative change of the estimate at which to stop, > 0. Default: 1e-6.
        seed (int): seed of the start vector (moved by the seed shift, as every seed of
            :mod:`regutils.seed`). Default: 0.
        threads (int, optional): torch CPU threads during the call. Default: 1.

    Returns:
        float: the estimated eigenvalue.

    Raises:
        TypeError, ValueError: for arguments of the wrong type or out of range.

    Example::

        >>> from regutils import mlp, load_digits, set_seed
        >>> set_seed(0)
        >>> model = mlp(hidden=(8,))
        >>> data = load_digits()
        >>> top_hessian_eigenvalue(model, data.train) > 0
        True
    """
    check_module("model", model)
    X, y = as_pair("data", data)
    iterations = check_int("iterations", iterations, minimum=1)
    tol = check_float("tol", tol, minimum=0.0, strict_min=True)
    seed = check_int("seed", seed, minimum=0)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no parameter that requires a gradient")
    was_training = model.training
    generator = torch_generator(seed)
    with cpu_threads(threads):
        model.eval()
        try:
            loss = F.cross_entropy(model(X), y)
            v = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in params]
            norm = torch.sqrt(sum((u * u).sum() for u in v))
            v = [u / norm for u in v]
            estimate = None
            for _ in range(iterations):
                hv = hessian_vector_product(loss, params, v)
                rayleigh = float(sum((h * u).sum() for h, u in zip(hv, v)))
                norm = torch.sqrt(sum((h * h).sum() for h in hv))
                if float(norm) == 0.0:
                    return 0.0
                v = [h.detach() / norm for h in hv]
                if estimate is not None and abs(rayleigh - estimate) <= tol * abs(rayleigh):
                    estimate = rayleigh
                    break
                estimate = rayleigh
        finally:
            model.train(was_training)
    return float(estimate)


def rescale_relu_layers(model: nn.Sequential, alpha: float, *, layer: int = 0) -> nn.Sequential:
    r"""A copy of ``model`` computing the same function with rescaled weights.

    ReLU is positively homogeneous, :math:`\operatorname{relu}(\alpha z) = \alpha
    \operatorname{relu}(z)` for :math:`\alpha > 0`. So multiplying the weight and bias of
    one linear layer by :math:`\alpha` and the weight of the next linear layer by
    :math:`1/\alpha` leaves every output unchanged (up to rounding), while the curvature of
    the loss changes: the Hessian block of the first layer's weights is divided by
    :math:`\alpha^2`, the next layer's multiplied by :math:`\alpha^2`. Any sharpness
    measured in these coordinates can be made as large as one likes, for the same function
    (Dinh et al. 2017, section 4).

    Args:
        model (nn.Sequential): an MLP whose linear layers are separated by ``nn.ReLU``
            (and possibly ``nn.Dropout`` or ``nn.Flatten``), as :func:`regutils.mlp` builds
            without batch norm.
        alpha (float): the factor, > 0.
        layer (int): which linear layer to multiply by ``alpha``, counting linear layers
            from 0; the next linear layer is divided by it. Default: 0.

    Returns:
        nn.Sequential: a rescaled deep copy; ``model`` is not changed.

    Raises:
        TypeError, ValueError: if ``model`` is not such an MLP, ``alpha`` is not positive
            or ``layer`` has no next linear layer.

    Example::

        >>> from regutils import mlp, set_seed
        >>> set_seed(0)
        >>> model = mlp(hidden=(8,))
        >>> x = torch.rand(3, 64)
        >>> torch.allclose(rescale_relu_layers(model, 10.0)(x), model(x), atol=1e-5)
        True
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential, but got {type(model).__name__}")
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True)
    layer = check_int("layer", layer, minimum=0)
    linear = [i for i, m in enumerate(model) if isinstance(m, nn.Linear)]
    if layer + 1 >= len(linear):
        raise ValueError(
            f"layer must have a next linear layer: the model has {len(linear)} linear "
            f"layers, so layer must be < {len(linear) - 1}, but got {layer}"
        )
    first, second = linear[layer], linear[layer + 1]
    between = [type(m) for m in model[first + 1 : second]]
    if nn.ReLU not in between or any(
        t not in (nn.ReLU, nn.Dropout, nn.Flatten, nn.Identity) for t in between
    ):
        names = [t.__name__ for t in between]
        raise ValueError(
            "the layers between the two linear layers must be ReLU (with optional Dropout), "
            f"so that the rescaling leaves the function unchanged, but got {names}"
        )
    out = copy.deepcopy(model)
    with torch.no_grad():
        out[first].weight.mul_(alpha)
        if out[first].bias is not None:
            out[first].bias.mul_(alpha)
        out[second].weight.div_(alpha)
    return out


__all__ = ["hessian_vector_product", "rescale_relu_layers", "top_hessian_eigenvalue"]
