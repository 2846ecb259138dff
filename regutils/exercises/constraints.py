"""Exercises of the Parameter tying and constraints chapter, with their reference solutions."""

from __future__ import annotations

import torch
from torch import nn

from regutils.exercises.core import Case, Exercise, register


def max_norm_columns(W, c):
    # Column j holds the weights going *out* of input j: bound each column's norm by c,
    # rescaling only the columns that are too long.
    norms = W.norm(dim=0, keepdim=True)  # (1, inputs)
    return W * (c / norms.clamp_min(1e-12)).clamp(max=1.0)


def matching_lam(X, y, w):
    # On the boundary the KKT condition reads grad L(w) + lam * w = 0, with
    # L(w) = (1/2n)||y - Xw||^2. Take the component along w: lam = -w . grad L(w) / ||w||^2.
    n = X.shape[0]
    grad = X.T @ (X @ w - y) / n
    return float(-(w @ grad) / (w @ w))


def lipschitz_bound(model):
    # ReLU never stretches a distance and a bias shifts both points alike, so each
    # linear layer stretches it by at most its largest singular value sigma(W):
    # the product over the layers bounds the whole network.
    bound = 1.0
    for layer in model:
        if isinstance(layer, nn.Linear):
            bound *= torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
    return bound


_g = torch.Generator().manual_seed(5)
_W = torch.randn(4, 6, generator=_g) * torch.tensor([0.1, 0.5, 1.0, 2.0, 3.0, 0.0])
_X = torch.randn(30, 3, generator=_g, dtype=torch.float64)
_y = _X @ torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64) + 0.3 * torch.randn(
    30, generator=_g, dtype=torch.float64
)


def _ridge(X, y, lam):
    n, d = X.shape
    return torch.linalg.solve(X.T @ X / n + lam * torch.eye(d, dtype=X.dtype), X.T @ y / n)


register(
    Exercise(
        name="constraints.max_norm_columns",
        entry_point="max_norm_columns",
        reference=max_norm_columns,
        cases=[
            Case((_W, 1.0)),
            Case((_W, 0.25)),
            Case((_W.T.contiguous(), 2.0)),
            Case((torch.tensor([[3.0, 0.3], [4.0, 0.4]]), 1.0)),
        ],
        atol=1e-6,
        hint="the norms go over dim=0 (down each column), shape (1, inputs); multiply by "
        "min(1, c / norm), so short columns and all-zero columns stay as they are.",
    )
)

register(
    Exercise(
        name="constraints.matching_lam",
        entry_point="matching_lam",
        reference=matching_lam,
        cases=[
            Case((_X, _y, _ridge(_X, _y, 0.1))),
            Case((_X, _y, _ridge(_X, _y, 1.0))),
            Case((_X[:10], _y[:10], _ridge(_X[:10], _y[:10], 0.03))),
        ],
        rtol=1e-6,
        hint="the gradient of L(w) = (1/2n)||y - Xw||^2 is X^T (Xw - y) / n; at the "
        "constrained optimum it equals -lam * w, so project it on w.",
    )
)


def _mlp(widths, scale, seed):
    """An nn.Sequential of Linear and ReLU layers with weights scaled by ``scale``."""
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layer = nn.Linear(a, b)
        with torch.no_grad():
            layer.weight.copy_(scale * torch.randn(b, a, generator=generator) / a**0.5)
        layers += [layer] if i == len(widths) - 2 else [layer, nn.ReLU()]
    return nn.Sequential(*layers)


register(
    Exercise(
        name="constraints.lipschitz_bound",
        entry_point="lipschitz_bound",
        reference=lipschitz_bound,
        cases=[
            Case((_mlp((64, 32, 10), 1.0, 0),)),
            Case((_mlp((8, 16, 16, 3), 2.0, 1),)),
            Case((_mlp((5, 4), 0.5, 2),)),
            Case((nn.Sequential(nn.Linear(2, 2, bias=False)),)),
        ],
        rtol=1e-5,
        hint="loop over the layers; for each nn.Linear multiply the running product by "
        "torch.linalg.matrix_norm(layer.weight, ord=2) (its largest singular value), skip "
        "the ReLUs, and return a float (.item()).",
    )
)
