"""Exercises of the L2 chapter, with their reference solutions."""

from __future__ import annotations

import torch
from torch import nn

from regutils.exercises.core import Case, Exercise, register


def l2_weights_only(model, lam):
    # Penalize the weights of Linear and Conv layers; skip biases and every
    # normalization layer, whose scale and shift do not make the function more complex.
    total = 0.0
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            total = total + module.weight.pow(2).sum()
    return 0.5 * lam * total


def ridge_with_intercept(X, y, lam):
    # Minimize (1/2n)||y - Xw - b||^2 + (lam/2)||w||^2, the intercept b unpenalized:
    # center X and y, solve the ridge normal equations, then put the means back into b.
    n, d = X.shape
    x_mean, y_mean = X.mean(dim=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    w = torch.linalg.solve(Xc.T @ Xc + n * lam * torch.eye(d, dtype=X.dtype), Xc.T @ yc)
    b = y_mean - x_mean @ w
    return w, b


def _filled(model: nn.Module, seed: int) -> nn.Module:
    """The model with every parameter drawn from a private generator: same values every time."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return model


_models = [
    _filled(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)), 0),
    _filled(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3)), 1),
    _filled(nn.Sequential(nn.Linear(5, 5), nn.LayerNorm(5), nn.Tanh(), nn.Linear(5, 1)), 2),
]
_g = torch.Generator().manual_seed(3)
_X = torch.randn(40, 4, generator=_g, dtype=torch.float64) + 2.0  # off-center on purpose
_y = _X @ torch.tensor([1.0, -2.0, 0.0, 0.5], dtype=torch.float64) + 3.0

register(
    Exercise(
        name="l2.l2_weights_only",
        entry_point="l2_weights_only",
        reference=l2_weights_only,
        cases=[Case((_models[0], 0.1)), Case((_models[1], 1.0)), Case((_models[2], 0.01))],
        rtol=1e-5,
        hint="loop over model.modules() and keep only the weight of nn.Linear and nn.Conv* "
        "layers: biases and BatchNorm / LayerNorm parameters are left out. Mind the 1/2.",
    )
)

register(
    Exercise(
        name="l2.ridge_with_intercept",
        entry_point="ridge_with_intercept",
        reference=ridge_with_intercept,
        cases=[Case((_X, _y, 0.1)), Case((_X, _y, 0.0)), Case((_X[:10], _y[:10], 1.0))],
        rtol=1e-6,
        hint="the intercept is not penalized: center X and y first, solve for w on the "
        "centered data with (Xc^T Xc + n lam I) w = Xc^T yc, then b = mean(y) - mean(X) @ w.",
    )
)
