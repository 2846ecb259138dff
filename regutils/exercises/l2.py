"""Exercises of the L2 chapter, with their reference solutions."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats
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


def gain_interval(a, b):
    # One number per seed for each configuration, the same seeds in the same order: the
    # differences d_s = a_s - b_s cancel what a seed's luck does to both runs.
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    mean = d.mean()
    # Student's t with n - 1 degrees of freedom, the sample standard deviation (ddof=1).
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)
    low, high = mean - half, mean + half
    verdict = 1 if low > 0 else -1 if high < 0 else 0  # 0: not distinguishable here
    return float(mean), float(low), float(high), verdict


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

# Validation accuracies (500 images: steps of 0.002) of two configurations on the same ten
# seeds. The first three seeds suggest a win of about 0.7 points, with an interval above
# zero; over all ten the mean difference is under 0.1 point and the interval holds zero.
_baseline = np.array([0.922, 0.918, 0.926, 0.930, 0.924, 0.928, 0.920, 0.926, 0.932, 0.924])
_other = _baseline + np.array(
    [0.006, 0.008, 0.006, -0.004, 0.002, -0.006, 0.004, -0.002, -0.006, 0.0]
)

register(
    Exercise(
        name="l2.gain_interval",
        entry_point="gain_interval",
        reference=gain_interval,
        cases=[
            Case((_other[:3].tolist(), _baseline[:3].tolist())),  # three seeds: a "win"
            Case((_other, _baseline)),  # ten seeds: not distinguishable
            Case(([0.904, 0.910, 0.898, 0.906, 0.900], [0.926, 0.924, 0.930, 0.922, 0.928])),
            Case(([33, 35, 30, 36, 31, 34], [39, 40, 37, 41, 38, 39])),  # mistakes: fewer
            Case(([0.52, 0.61], [0.50, 0.55])),  # two seeds: one degree of freedom
        ],
        rtol=1e-6,
        atol=1e-9,
        hint="d = a - b (as float arrays); mean d.mean(); half-width "
        "scipy.stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / sqrt(n); verdict 1 when the "
        "interval lies above zero, -1 when below, else 0.",
    )
)
