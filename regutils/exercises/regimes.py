"""Exercises of the two regimes chapters, with their reference solutions.

Chapter 11 (``11_regimes_data.ipynb``) and chapter 12 (``12_regimes_position_depth.ipynb``)
register their exercises here, under names ``"regimes.<function>"``.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from regutils.exercises.core import Case, Exercise, register

# ---------------------------------------------------------------------------------------
# Chapter 11, "When regularization matters: data and labels"


def accuracy_on_noisy_labels(clean_acc, rate, n_classes=10):
    # A fraction `rate` of the labels is replaced by one of the n_classes - 1 wrong
    # classes, drawn uniformly. A right prediction (probability clean_acc) matches a
    # replaced label never; a wrong one matches it with probability 1 / (n_classes - 1).
    return (1 - rate) * clean_acc + rate * (1 - clean_acc) / (n_classes - 1)


def decide(technique, baseline, confidence=0.95):
    # The paired differences over seeds, their mean and Student-t interval; +1 when the
    # interval lies above zero, -1 when below, 0 when it contains zero.
    d = np.asarray(technique, dtype=float) - np.asarray(baseline, dtype=float)
    n = d.size
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
    if d.mean() - half > 0:
        return 1
    if d.mean() + half < 0:
        return -1
    return 0


register(
    Exercise(
        name="regimes.accuracy_on_noisy_labels",
        entry_point="accuracy_on_noisy_labels",
        reference=accuracy_on_noisy_labels,
        cases=[
            Case((0.9, 0.2)),
            Case((1.0, 0.4)),
            Case((torch.tensor([0.5, 0.8, 0.95], dtype=torch.float64), 0.3)),
            Case((np.array([0.0, 0.6]), 0.25), {"n_classes": 4}),
        ],
        hint="split the images into the 1 - rate whose labels were kept and the rate whose "
        "labels were replaced; on the first, a prediction is scored right with probability "
        "clean_acc; on the second, only a wrong prediction can match the new label, and it "
        "does with probability 1 / (n_classes - 1).",
    )
)

_base = np.array([0.90, 0.91, 0.89, 0.92, 0.90])
register(
    Exercise(
        name="regimes.decide",
        entry_point="decide",
        reference=decide,
        cases=[
            Case((_base + np.array([0.03, 0.02, 0.04, 0.03, 0.02]), _base)),  # helps
            Case((_base - np.array([0.05, 0.04, 0.06, 0.05, 0.03]), _base)),  # hurts
            Case((_base + np.array([0.02, -0.01, 0.03, -0.02, 0.01]), _base)),  # noise
            # the same mean gain of 0.01 as above, but on every seed: it is real
            Case((_base + np.array([0.012, 0.009, 0.011, 0.008, 0.010]), _base)),
            # a gain on every seed of three, but too spread to tell at 99%
            Case(([0.93, 0.95, 0.91], [0.92, 0.92, 0.90]), {"confidence": 0.99}),
        ],
        hint="take the paired differences technique - baseline (same seed, same index), "
        "their mean m and standard deviation s (ddof=1); the half-width is "
        "scipy.stats.t.ppf(0.5 + confidence / 2, n - 1) * s / sqrt(n). Return 1 when "
        "m - half > 0, -1 when m + half < 0, else 0.",
    )
)

# ---------------------------------------------------------------------------------------
# Chapter 12, "When regularization matters: position and depth"


def crop_from_ink(x, size=8):
    # Undo the translation by hand: for each image of (N, C, H, W), the first row and the
    # first column that hold any ink (a pixel > 0, over all channels) start a size x size
    # window, moved back inside the image when it would cross the bottom or right border.
    # An image without ink starts at (0, 0).
    n, _, height, width = x.shape
    out = x.new_zeros(n, x.shape[1], size, size)
    for i in range(n):
        ink = x[i].amax(dim=0) > 0  # (H, W)
        rows = torch.nonzero(ink.any(dim=1)).flatten()
        cols = torch.nonzero(ink.any(dim=0)).flatten()
        top = min(int(rows[0]) if len(rows) else 0, height - size)
        left = min(int(cols[0]) if len(cols) else 0, width - size)
        out[i] = x[i, :, top : top + size, left : left + size]
    return out


def head_inputs(image_size, channels, pool):
    # small_cnn halves the side in each block (a 2x2 max pooling), so the last feature maps
    # are channels[-1] maps of side image_size / 2**len(channels). "flatten" hands every
    # position of every map to the last layer; "global" averages each map to one number.
    side = image_size // 2 ** len(channels)
    return channels[-1] * (side * side if pool == "flatten" else 1)


def _canvases():
    g = torch.Generator().manual_seed(12)
    x = torch.zeros(6, 1, 12, 12, dtype=torch.float64)
    digits = torch.rand(6, 1, 8, 8, generator=g, dtype=torch.float64)
    digits[:, :, :, 0] = 0  # a blank first column, as many digits of the data set have
    digits[2, :, :3] = 0  # ink that starts on the fourth row of its frame
    for i, (r, c) in enumerate([(0, 0), (4, 4), (2, 3), (4, 0), (1, 2), (3, 1)]):
        x[i, :, r : r + 8, c : c + 8] = digits[i]
    x[5] = 0  # no ink at all
    return x


_c = _canvases()

register(
    Exercise(
        name="regimes.crop_from_ink",
        entry_point="crop_from_ink",
        reference=crop_from_ink,
        cases=[
            Case((_c,)),
            Case((_c[1:3],), {"size": 6}),
            Case((_c[:2].expand(2, 3, 12, 12).clone(),)),  # three channels
            Case((torch.eye(10, dtype=torch.float64).reshape(1, 1, 10, 10),), {"size": 4}),
        ],
        hint="for image i, ink = x[i].amax(dim=0) > 0 is an (H, W) mask; ink.any(dim=1) "
        "says which rows hold ink and ink.any(dim=0) which columns; take the first of each "
        "(0 when there is none), then clamp with min(start, H - size) so that the window "
        "stays inside the image.",
    )
)

register(
    Exercise(
        name="regimes.head_inputs",
        entry_point="head_inputs",
        reference=head_inputs,
        cases=[
            Case((8, (16, 32), "flatten")),
            Case((12, (16, 32), "flatten")),
            Case((12, (16, 32), "global")),
            Case((16, (8, 16, 32), "flatten")),
            Case((32, (4,), "global")),
        ],
        hint="each block of small_cnn ends with a 2x2 max pooling, which halves the side; "
        "after len(channels) blocks there are channels[-1] maps of side "
        "image_size // 2 ** len(channels). Flattening keeps every position of every map; "
        "global average pooling keeps one number per map.",
    )
)
