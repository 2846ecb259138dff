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


_g = torch.Generator().manual_seed(7)
_x = torch.randn(4, 6, generator=_g)
_mask = (torch.rand(4, 6, generator=_g) < 0.8).float()
_logits = torch.randn(5, 3, 4, generator=_g, dtype=torch.float64)
_onehot = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]] * 2, dtype=torch.float64)
_disagree = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]], dtype=torch.float64)

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
