"""Exercises of the chapter "Ensembles and weight averaging" (``16_ensembles_and_averaging``).

Registered under names ``"ensembles.<function>"``.
"""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register


def ema_trajectory(weights, beta):
    # The average starts at the first step's weights, then each step keeps a fraction
    # beta of the average and mixes in (1 - beta) of the new weights.
    out = torch.empty_like(weights)
    out[0] = weights[0]
    for t in range(1, len(weights)):
        out[t] = beta * out[t - 1] + (1 - beta) * weights[t]
    return out


def curve_by_size(member_probs, y, sizes):
    # For each size k: the M // k disjoint groups of k consecutive members, each group's
    # mean probabilities, then accuracy and cross-entropy of each group, averaged.
    rows = []
    for k in sizes:
        groups = [member_probs[i : i + k] for i in range(0, len(member_probs) - k + 1, k)]
        accs, losses = [], []
        for g in groups:
            p = g.mean(0)  # (N, C)
            accs.append((p.argmax(1) == y).double().mean())
            losses.append(-torch.log(p[torch.arange(len(y)), y]).mean())
        rows.append([torch.stack(accs).mean(), torch.stack(losses).mean()])
    return torch.tensor([[float(a), float(b)] for a, b in rows], dtype=torch.float64)


def _walk(steps, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(steps, d, generator=g, dtype=torch.float64).cumsum(0)


def _probs(m, n, c, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(m, n, c, generator=g, dtype=torch.float64), dim=-1)


def _labels(n, c, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, c, (n,), generator=g)


register(
    Exercise(
        name="ensembles.ema_trajectory",
        entry_point="ema_trajectory",
        reference=ema_trajectory,
        cases=[
            Case((_walk(6, 3, 0), 0.5)),
            Case((_walk(20, 2, 1), 0.9)),
            Case((_walk(1, 4, 2), 0.99)),  # one step: the average is the weights
            Case((_walk(5, 1, 3), 0.0)),  # beta = 0: no memory at all
        ],
        hint="start with out[0] = weights[0]; then, for t from 1, out[t] = beta * out[t - 1] "
        "+ (1 - beta) * weights[t]. torch.empty_like(weights) makes the output.",
    )
)

register(
    Exercise(
        name="ensembles.curve_by_size",
        entry_point="curve_by_size",
        reference=curve_by_size,
        cases=[
            Case((_probs(4, 30, 3, 0), _labels(30, 3, 1), (1, 2, 4))),
            Case((_probs(8, 50, 10, 2), _labels(50, 10, 3), (1, 2, 4, 8))),
            Case((_probs(5, 20, 4, 4), _labels(20, 4, 5), (2, 3))),  # members left over
            Case((_probs(3, 10, 2, 6), _labels(10, 2, 7), (1,))),
        ],
        hint="for size k the groups are member_probs[0:k], member_probs[k:2k], ... while a "
        "whole group fits (range(0, M - k + 1, k)); average each group over dim 0, then "
        "accuracy = (p.argmax(1) == y).mean() and loss = -log p[arange(N), y] averaged; "
        "average both over the groups and stack one row [acc, loss] per size.",
    )
)
