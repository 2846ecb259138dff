"""Exercises of the Dropout chapter, with their reference solutions."""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register


def paper_dropout(x, mask, keep, training):
    # Srivastava et al. (2014): keep is the probability of KEEPING a unit. Training
    # multiplies by the 0/1 mask without rescaling; at test time every unit is
    # kept and its output scaled by keep (the weight-scaling rule).
    if training:
        return x * mask
    return x * keep


def predictive_entropy(probs):
    # probs: (passes, N, classes). Average the passes first, then take the
    # entropy of the mean prediction, in nats; 0 log 0 counts as 0.
    mean = probs.mean(dim=0)  # (N, classes)
    logs = torch.where(mean > 0, mean.log(), torch.zeros_like(mean))
    return -(mean * logs).sum(dim=1)  # (N,)


def keep_ridge(X, y, keep):
    # The paper's convention: inputs times a 0/1 mask with P(1) = keep, no
    # rescaling. Entry i of (M * X) w has mean keep * (X w)_i and variance
    # keep (1 - keep) sum_j X_ij^2 w_j^2, so the expected loss is
    # (1/2n) ||y - keep X w||^2 + (1/2n) keep (1 - keep) sum_j ||X_j||^2 w_j^2.
    # Setting its gradient to zero and dividing by keep:
    # (keep X^T X + (1 - keep) diag(X^T X)) w = X^T y.
    gram = X.T @ X
    matrix = keep * gram + (1 - keep) * torch.diag(gram.diagonal())
    return torch.linalg.solve(matrix, X.T @ y)


_g = torch.Generator().manual_seed(7)
_x = torch.randn(4, 6, generator=_g)
_mask = (torch.rand(4, 6, generator=_g) < 0.8).float()
_logits = torch.randn(5, 3, 4, generator=_g, dtype=torch.float64)
_onehot = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]] * 2, dtype=torch.float64)
_disagree = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]], dtype=torch.float64)
_X = torch.rand(30, 5, generator=_g, dtype=torch.float64) * torch.tensor(
    [1.0, 3.0, 0.5, 2.0, 1.0], dtype=torch.float64
)
_y = _X @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0], dtype=torch.float64)
_y = _y + 0.3 * torch.randn(30, generator=_g, dtype=torch.float64)

register(
    Exercise(
        name="dropout.paper_dropout",
        entry_point="paper_dropout",
        reference=paper_dropout,
        cases=[
            Case((_x, _mask, 0.8, True)),
            Case((_x, _mask, 0.8, False)),
            Case((_x, _mask, 0.5, False)),
            Case((_x, torch.ones(4, 6), 1.0, True)),
        ],
        rtol=1e-6,
        hint="keep is the probability of keeping a unit (the paper's p): in training "
        "multiply by the mask and do not divide; at evaluation ignore the mask and "
        "multiply by keep.",
    )
)

register(
    Exercise(
        name="dropout.predictive_entropy",
        entry_point="predictive_entropy",
        reference=predictive_entropy,
        cases=[
            Case((torch.softmax(_logits, dim=2),)),
            Case((_onehot,)),
            Case((_disagree,)),
        ],
        rtol=1e-6,
        atol=1e-10,
        hint="average over the passes (dim 0) first, then -sum(p log p) over the classes; "
        "a probability of exactly 0 contributes 0, not nan. Two passes that are each "
        "certain but disagree give log 2.",
    )
)

register(
    Exercise(
        name="dropout.keep_ridge",
        entry_point="keep_ridge",
        reference=keep_ridge,
        cases=[
            Case((_X, _y, 0.5)),
            Case((_X, _y, 0.8)),
            Case((_X[:, :3], _y, 0.3)),
            Case((_X, _y, 1.0)),  # nothing dropped: plain least squares
        ],
        rtol=1e-6,
        atol=1e-9,
        hint="one entry of (M * X) w has mean keep * (X w)_i and variance keep (1 - keep) "
        "sum_j X_ij^2 w_j^2; the expected squared error is the squared error of the mean plus "
        "the variance. Set the gradient of that expectation to zero, a d-by-d linear "
        "system, and solve it with torch.linalg.solve.",
    )
)
