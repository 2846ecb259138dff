"""Exercises of the Batch normalization chapter, with their reference solutions."""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register
from regutils.stats import paired_image_interval


def keras_running_stats(batches, momentum):
    # Keras's momentum is the weight of the *old* average; PyTorch's is the weight
    # of the *new* batch statistic, so PyTorch's momentum is 1 - momentum.
    # The rest is PyTorch's rule: start at 0 and 1, unbiased batch variance.
    new = 1.0 - momentum
    mean = torch.zeros(batches[0].shape[1], dtype=batches[0].dtype)
    var = torch.ones(batches[0].shape[1], dtype=batches[0].dtype)
    for x in batches:  # x: (N, C)
        mean = (1 - new) * mean + new * x.mean(dim=0)
        var = (1 - new) * var + new * x.var(dim=0, unbiased=True)
    return mean, var


def fold_batch_norm(weight, bias, running_mean, running_var, gamma, beta, eps):
    # In evaluation mode, BN(Wx + b) = gamma * (Wx + b - mean) / sqrt(var + eps) + beta
    # is one affine map: scale each row of W, and fold everything else into the bias.
    scale = gamma / torch.sqrt(running_var + eps)  # (units,)
    return weight * scale[:, None], (bias - running_mean) * scale + beta


def which_is_better(a, b):
    # a[s, i], b[s, i]: 1 if seed s's model gets image i right, else 0. The interval
    # over the seeds alone treats these images as the only ones there are; counting the
    # images too (a two-way analysis of variance of the differences) asks whether the
    # difference would hold on other images as well.
    interval = paired_image_interval(a, b)
    if interval.low > 0:
        return 1  # a is more accurate
    if interval.high < 0:
        return -1  # b is more accurate
    return 0  # not distinguishable with these seeds and images


_g = torch.Generator().manual_seed(8)
# float32, as nn.BatchNorm1d: an answer built on the layer must pass.
_batches = [3.0 * torch.randn(6, 4, generator=_g) + 1.0 for _ in range(5)]
_few = [torch.randn(2, 3, generator=_g) for _ in range(3)]


def _layer(units: int, inputs: int) -> tuple:
    """(weight, bias, running_mean, running_var, gamma, beta, eps) of a Linear + BN pair."""
    w = torch.randn(units, inputs, generator=_g, dtype=torch.float64)
    b, mean, beta = (torch.randn(units, generator=_g, dtype=torch.float64) for _ in range(3))
    var = torch.rand(units, generator=_g, dtype=torch.float64) + 0.1
    gamma = torch.rand(units, generator=_g, dtype=torch.float64) + 0.5
    return w, b, mean, var, gamma, beta, 1e-5


register(
    Exercise(
        name="batch_norm.keras_running_stats",
        entry_point="keras_running_stats",
        reference=keras_running_stats,
        cases=[
            Case((_batches, 0.99)),
            Case((_batches, 0.9)),
            Case((_batches, 0.0)),
            Case((_few, 0.5)),
        ],
        rtol=1e-6,
        hint="Keras's momentum 0.99 is PyTorch's momentum 0.01: new = (1 - m_pytorch) * old "
        "+ m_pytorch * batch statistic, with x.var(dim=0, unbiased=True) for the variance.",
    )
)

register(
    Exercise(
        name="batch_norm.fold_batch_norm",
        entry_point="fold_batch_norm",
        reference=fold_batch_norm,
        cases=[
            Case(_layer(4, 3)),
            Case(_layer(1, 5)),
            Case((*_layer(3, 2)[:6], 0.1)),
        ],
        rtol=1e-6,
        hint="write gamma * (W x + b - mean) / sqrt(var + eps) + beta as W' x + b': each row i "
        "of W is multiplied by gamma_i / sqrt(var_i + eps).",
    )
)


def _right(p: float, seeds: int, images: int) -> torch.Tensor:
    """(seeds, images) of 0.0 and 1.0: each entry 1 with probability p."""
    return (torch.rand(seeds, images, generator=_g, dtype=torch.float64) < p).double()


# Three seeds on 200 images: the two agree except on the same four images, which a gets
# right and b wrong on every seed. The seeds agree (+2 points each), the images do not.
_same_four_b = _right(0.9, 3, 200)
_same_four_a = _same_four_b.clone()
_same_four_a[:, :4], _same_four_b[:, :4] = 1.0, 0.0
_strong, _weak = _right(0.97, 5, 300), _right(0.85, 5, 300)  # a clear 12 points

register(
    Exercise(
        name="batch_norm.which_is_better",
        entry_point="which_is_better",
        reference=which_is_better,
        cases=[
            Case((_same_four_a, _same_four_b)),
            Case((_strong, _weak)),
            Case((_weak, _strong)),
            Case((_right(0.9, 5, 500), _right(0.9, 5, 500))),
        ],
        hint="paired_interval(a.mean(axis=1), b.mean(axis=1)) counts the seeds only: "
        "four images right on every seed look certain. regutils.paired_image_interval(a, b) "
        "counts the seeds and the images; return 1 when its interval lies above zero, -1 "
        "when below, else 0.",
    )
)
