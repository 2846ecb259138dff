"""Exercises of the Noise injection chapter, with their reference solutions."""

from __future__ import annotations

import math

import torch

from regutils.exercises.core import Case, Exercise, register


def per_feature_noise_weights(X, y, sigmas):
    # Noise of std sigma_j on feature j adds (1/2) sum_j sigma_j^2 w_j^2 to the expected
    # loss (1/2n)||y - Xw||^2: a ridge with a different strength per feature. Its
    # minimizer solves (X^T X + n diag(sigma^2)) w = X^T y.
    n = X.shape[0]
    return torch.linalg.solve(X.T @ X + n * torch.diag(sigmas**2), X.T @ y)


def smoothed_targets(y, n_classes, eps):
    # Label smoothing's target distribution: (1 - eps) on the true class plus eps
    # spread evenly over all n_classes (the true class included), as in
    # F.cross_entropy(..., label_smoothing=eps).
    one_hot = torch.nn.functional.one_hot(y, n_classes).to(torch.get_default_dtype())
    return (1 - eps) * one_hot + eps / n_classes


_g = torch.Generator().manual_seed(6)
_X = torch.randn(30, 4, generator=_g, dtype=torch.float64) * torch.tensor(
    [1.0, 0.1, 3.0, 1.0], dtype=torch.float64
)
_y = _X @ torch.tensor([1.0, 5.0, -0.5, 0.0], dtype=torch.float64) + 0.2 * torch.randn(
    30, generator=_g, dtype=torch.float64
)
_f64 = {"dtype": torch.float64}

register(
    Exercise(
        name="noise_injection.per_feature_noise_weights",
        entry_point="per_feature_noise_weights",
        reference=per_feature_noise_weights,
        cases=[
            Case((_X, _y, torch.tensor([0.5, 0.5, 0.5, 0.5], **_f64))),
            Case((_X, _y, torch.tensor([0.1, 0.02, 0.3, 1.0], **_f64))),
            Case((_X, _y, torch.zeros(4, **_f64))),
            Case((_X[:8], _y[:8], torch.tensor([2.0, 0.0, 0.0, 0.7], **_f64))),
        ],
        rtol=1e-6,
        hint="expand E||y - (X + E diag(sigma)) w||^2: the cross term vanishes and the "
        "noise adds n * sum_j sigma_j^2 w_j^2. Set the gradient to zero: "
        "(X^T X + n diag(sigma^2)) w = X^T y.",
    )
)

register(
    Exercise(
        name="noise_injection.smoothed_targets",
        entry_point="smoothed_targets",
        reference=smoothed_targets,
        cases=[
            Case((torch.tensor([0, 2, 1]), 3, 0.1)),
            Case((torch.tensor([4, 4, 0, 9]), 10, 0.2)),
            Case((torch.tensor([1, 0]), 2, 0.0)),
            Case((torch.tensor([3]), 5, 1.0)),
        ],
        rtol=1e-6,
        hint="start from the one-hot targets (torch.nn.functional.one_hot, as float), "
        "multiply by 1 - eps and add eps / n_classes to every entry: each row still sums "
        "to 1, and the true class gets 1 - eps + eps / n_classes.",
    )
)


def paired_verdict(a, b):
    # The 95% Student-t interval of the mean paired difference d = a - b over the seeds,
    # mean(d) +- t(n - 1, 0.975) * std(d) / sqrt(n) (std with n - 1): 1 when it lies above
    # zero, -1 when it lies below, 0 when it contains zero (the seeds cannot tell).
    from scipy import stats

    d = torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)
    n = len(d)
    half = stats.t.ppf(0.975, n - 1) * d.std().item() / math.sqrt(n)  # torch: n - 1
    mean = d.mean().item()
    if mean - half > 0:
        return 1
    if mean + half < 0:
        return -1
    return 0


_base = torch.tensor([0.920, 0.926, 0.918, 0.930, 0.924, 0.922], dtype=torch.float64)
_gain = torch.tensor([0.010, 0.014, 0.006, 0.012, 0.008, 0.010], dtype=torch.float64)
_mixed = torch.tensor([0.012, -0.008, 0.004, -0.006, 0.010, -0.002], dtype=torch.float64)

register(
    Exercise(
        name="noise_injection.paired_verdict",
        entry_point="paired_verdict",
        reference=paired_verdict,
        cases=[
            Case((_base + _gain, _base)),  # a gain on every seed: 1
            Case((_base, _base + _gain)),  # the same, the other way round: -1
            Case((_base + _mixed, _base)),  # up on some seeds, down on others: 0
            Case((_base[:2] + torch.tensor([0.01, 0.03]), _base[:2])),  # 2 seeds: 0
            Case((_base[:3] + torch.tensor([0.004, 0.005, 0.006]), _base[:3])),  # steady: 1
        ],
        hint="take d = a - b; with n = len(d), the half-width is "
        "scipy.stats.t.ppf(0.975, n - 1) * d.std() / sqrt(n) (torch's std divides by "
        "n - 1); return 1 if d.mean() - half > 0, -1 if d.mean() + half < 0, else 0. "
        "regutils.paired_interval computes the same interval.",
    )
)
