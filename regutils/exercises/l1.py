"""Exercises of the L1 chapter, with their reference solutions."""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register


def my_soft_threshold(w, t):
    # Shrink every entry by t toward zero, and stop at zero.
    return torch.sign(w) * torch.clamp(w.abs() - t, min=0.0)


def lasso_lambda_max(X, y):
    # At w = 0 the gradient of the squared error is -X^T y / n. Zero stays optimal while
    # every entry of it lies within [-lam, lam]: lam_max = max_j |x_j^T y| / n.
    return (X.T @ y).abs().max() / len(y)


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
