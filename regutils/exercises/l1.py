"""Exercises of the L1 chapter, with their reference solutions."""

from __future__ import annotations

import numpy as np
import torch

from regutils.exercises.core import Case, Exercise, register


def my_soft_threshold(w, t):
    # Shrink every entry by t toward zero, and stop at zero.
    return torch.sign(w) * torch.clamp(w.abs() - t, min=0.0)


def lasso_lambda_max(X, y):
    # At w = 0 the gradient of the squared error is -X^T y / n. Zero stays optimal while
    # every entry of it lies within [-lam, lam]: lam_max = max_j |x_j^T y| / n.
    return (X.T @ y).abs().max() / len(y)


def seed_verdict(a, b):
    from scipy import stats

    # Paired differences: what a seed does to both a[s] and b[s] cancels.
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)
    if d.mean() - half > 0:  # the whole interval above zero: a is better
        return 1
    if d.mean() + half < 0:  # the whole interval below zero: b is better
        return -1
    return 0  # the interval includes zero: not distinguishable here


_g = torch.Generator().manual_seed(1)
_X = torch.randn(30, 6, generator=_g, dtype=torch.float64)
_y = torch.randn(30, generator=_g, dtype=torch.float64)

register(
    Exercise(
        name="l1.my_soft_threshold",
        entry_point="my_soft_threshold",
        reference=my_soft_threshold,
        cases=[
            Case((torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5]), 1.0)),
            Case((torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5]), 0.0)),
            Case((torch.tensor([[0.2, -3.0], [4.0, -0.1]]), 0.25)),
            Case((torch.tensor([5.0, -5.0]), 10.0)),
        ],
        hint="sign(w) * max(|w| - t, 0): torch.sign, .abs() and torch.clamp(..., min=0) "
        "do it without a loop, for any shape.",
    )
)

register(
    Exercise(
        name="l1.lasso_lambda_max",
        entry_point="lasso_lambda_max",
        reference=lasso_lambda_max,
        cases=[
            Case((_X, _y)),
            Case((_X[:, :1], _y)),
            Case((_X[:10], _y[:10])),
            Case((-_X, 3 * _y)),
        ],
        hint="look at the gradient of (1/2n)||y - Xw||^2 at w = 0, and remember the "
        "objective divides by n.",
    )
)

# Seeds that differ a lot from one another, with a steadily ahead of b on every seed: an
# unpaired comparison would call it a tie, the paired one sees it.
_b_wide = [0.90, 0.95, 0.92, 0.97, 0.91]
_a_wide = [b + g for b, g in zip(_b_wide, [0.004, 0.006, 0.005, 0.004, 0.006])]

register(
    Exercise(
        name="l1.seed_verdict",
        entry_point="seed_verdict",
        reference=seed_verdict,
        cases=[
            Case(([0.93, 0.94, 0.93, 0.95], [0.92, 0.92, 0.92, 0.93])),
            Case((_a_wide, _b_wide)),
            Case(([0.93, 0.91, 0.94, 0.92], [0.92, 0.93, 0.92, 0.93])),
            Case(([0.88, 0.89, 0.885], [0.92, 0.925, 0.93])),
            Case(([0.95, 0.96], [0.94, 0.94])),
            Case(
                (np.array([91.2, 92.0, 91.6, 92.4, 91.8]), np.array([91.0, 92.4, 91.0, 92.6, 91.2]))
            ),
        ],
        hint="d = a - b seed by seed; its mean plus or minus "
        "scipy.stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / sqrt(n) is the interval; "
        "1 if it lies above zero, -1 below, 0 if it contains zero.",
    )
)
