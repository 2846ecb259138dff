"""Exercises of the Adversarial training chapter, with their reference solutions.

Chapter 17 (``17_adversarial_training.ipynb``) registers its exercises here, under names
``"adversarial.<function>"``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from regutils.exercises.core import Case, Exercise, register


def into_ball(x_adv, x, eps):
    # PGD's projection: first into the box [x - eps, x + eps] around the clean image,
    # then into the pixel range [0, 1]. Both are boxes, so two clips land in both.
    inside = torch.minimum(torch.maximum(x_adv, x - eps), x + eps)
    return inside.clamp(0, 1)


def fgsm_through_rounding(model, x, y, eps, levels):
    # BPDA (Athalye, Carlini and Wagner, 2018, section 4.1): the network sees the rounded
    # image z; treat rounding as the identity on the way back, so the gradient with
    # respect to x is the model's input gradient at z. Then FGSM's step from x.
    z = (torch.round(levels * x) / levels).requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(z), y), z)
    return (x + eps * grad.sign()).clamp(0, 1).detach()


_g = torch.Generator().manual_seed(17)
_f64 = {"dtype": torch.float64}
_x = torch.rand(5, 6, generator=_g, **_f64)
_moved = _x + 0.4 * torch.randn(5, 6, generator=_g, **_f64)

register(
    Exercise(
        name="adversarial.into_ball",
        entry_point="into_ball",
        reference=into_ball,
        cases=[
            Case((_moved, _x, 0.1)),
            Case((_moved, _x, 0.3)),
            Case((_x, _x, 0.05)),  # already inside: unchanged
            Case(
                (
                    torch.tensor([1.4, -0.3, 0.55], **_f64),
                    torch.tensor([0.95, 0.1, 0.5], **_f64),
                    0.2,
                )
            ),
        ],
        hint="torch.max(x_adv, x - eps) lifts what fell below the ball and torch.min(..., "
        "x + eps) lowers what rose above it; then .clamp(0, 1) for the pixel range.",
    )
)


def _model(seed: int, d_in: int, classes: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(d_in, 12), nn.ReLU(), nn.Linear(12, classes)).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, **_f64))
    return model


_x8 = torch.randint(0, 17, (7, 8), generator=_g).double() / 16  # pixels on 1/16 steps
_x8_off = (_x8 + 0.02 * torch.randn(7, 8, generator=_g, **_f64)).clamp(0, 1)
_y8 = torch.randint(0, 4, (7,), generator=_g)

register(
    Exercise(
        name="adversarial.fgsm_through_rounding",
        entry_point="fgsm_through_rounding",
        reference=fgsm_through_rounding,
        cases=[
            Case((_model(1, 8, 4), _x8, _y8, 0.1, 16)),
            Case((_model(2, 8, 4), _x8, _y8, 0.3, 4)),
            Case((_model(3, 8, 4), _x8_off, _y8, 0.1, 16)),  # images between levels
            Case((_model(4, 8, 4), _x8_off, _y8, 0.05, 2)),
        ],
        hint="the gradient of torch.round is zero, so differentiate as if rounding were the "
        "identity: compute z = round(levels * x) / levels, the image the model sees, take the "
        "gradient of the cross-entropy of model(z) with respect to z, and step from x: "
        "(x + eps * grad.sign()).clamp(0, 1).",
    )
)
