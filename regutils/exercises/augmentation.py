"""Exercises of the Data augmentation chapter, with their reference solutions."""

from __future__ import annotations

import torch

from regutils.exercises.core import Case, Exercise, register


def shift_by_whole_pixels(x, dx, dy):
    # x: (N, C, H, W). Move every image dx pixels right and dy pixels down (negative:
    # left / up); what comes in from outside the image is 0, what leaves is lost.
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    if abs(dx) >= w or abs(dy) >= h:
        return out  # everything left the image
    rows_out = slice(max(dy, 0), h + min(dy, 0))
    rows_in = slice(max(-dy, 0), h + min(-dy, 0))
    cols_out = slice(max(dx, 0), w + min(dx, 0))
    cols_in = slice(max(-dx, 0), w + min(-dx, 0))
    out[..., rows_out, cols_out] = x[..., rows_in, cols_in]
    return out


def mix_pairs(x, y, lam, perm, n_classes):
    # Mixup with its randomness given: image i is mixed with image perm[i], with weight
    # lam on image i; the integer labels become one-hot rows mixed the same way.
    one_hot = torch.nn.functional.one_hot(y, n_classes).to(x.dtype)  # (B, n_classes)
    return lam * x + (1 - lam) * x[perm], lam * one_hot + (1 - lam) * one_hot[perm]


_g = torch.Generator().manual_seed(9)
_images = torch.rand(3, 1, 8, 8, generator=_g)
_wide = torch.rand(2, 2, 5, 7, generator=_g)
_x = torch.rand(6, 64, generator=_g)
_y = torch.tensor([0, 3, 9, 3, 1, 0])
_perm = torch.tensor([5, 2, 4, 0, 1, 3])

register(
    Exercise(
        name="augmentation.shift_by_whole_pixels",
        entry_point="shift_by_whole_pixels",
        reference=shift_by_whole_pixels,
        cases=[
            Case((_images, 1, 0)),
            Case((_images, -2, 1)),
            Case((_images, 0, -3)),
            Case((_images, 0, 0)),
            Case((_wide, 3, -2)),
            Case((_images, 8, 0)),
            Case((_wide, -1, -5)),
        ],
        rtol=0.0,
        atol=0.0,
        hint="start from torch.zeros_like(x) and copy one rectangle: for dx = 1 the "
        "output's columns 1.. receive the input's columns ..-1. torch.roll would wrap "
        "the pixels that leave back in on the other side.",
    )
)

register(
    Exercise(
        name="augmentation.mix_pairs",
        entry_point="mix_pairs",
        reference=mix_pairs,
        cases=[
            Case((_x, _y, 0.7, _perm, 10)),
            Case((_x, _y, 1.0, _perm, 10)),
            Case((_x[:4], _y[:4], 0.25, torch.tensor([1, 0, 3, 2]), 12)),
        ],
        rtol=1e-6,
        hint="x[perm] lines up each image with its partner; the labels need the same "
        "treatment after torch.nn.functional.one_hot(y, n_classes), converted to floats.",
    )
)
