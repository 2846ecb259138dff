"""Exercises of the Combining regularizers chapter, with their reference solutions."""

from __future__ import annotations

import math

import torch

from regutils.exercises.core import Case, Exercise, register


def combination_verdict(combination, parts):
    # combination: (seeds,) validation accuracies of a combination; parts: dict name ->
    # (seeds,) accuracies of each part alone, on the same seeds. The best part is the one
    # with the highest mean. The paired differences d_s = combination_s - best_s give a 95%
    # t-interval, mean ± t * std(d) / sqrt(seeds), with std's ddof=1 and t the 0.975
    # quantile of Student's t with seeds - 1 degrees of freedom. Verdict: "adds up" when the
    # interval lies above zero, "worse" when it lies below, else "not distinguishable".
    from scipy import stats

    best = max(parts, key=lambda name: float(parts[name].mean()))
    d = (combination - parts[best]).double()
    n = len(d)
    half = stats.t.ppf(0.975, n - 1) * float(d.std()) / math.sqrt(n)
    mean = float(d.mean())
    if mean - half > 0:
        return best, "adds up"
    if mean + half < 0:
        return best, "worse"
    return best, "not distinguishable"


def noise_to_weight_ratio(weights, sigma):
    # weights: a list of weight tensors (one per layer); sigma: the standard deviation of
    # the noise added to every weight. Return, per layer, sigma divided by the root mean
    # square of the layer's weights: above 1, the noise is larger than a typical weight.
    return [sigma / float(w.pow(2).mean().sqrt()) for w in weights]


def _acc(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


_parts = {"L2": _acc(0.930, 0.925, 0.934), "dropout": _acc(0.935, 0.930, 0.938)}
_weights = [
    torch.linspace(-0.1, 0.1, 64 * 4).reshape(4, 64),
    torch.full((3, 4), 0.02),
    torch.tensor([[0.3, -0.4], [0.0, 0.5]]),
]

register(
    Exercise(
        name="combining.combination_verdict",
        entry_point="combination_verdict",
        reference=combination_verdict,
        cases=[
            Case((_acc(0.936, 0.929, 0.941), _parts)),  # within the noise
            Case((_acc(0.950, 0.946, 0.955), _parts)),  # above dropout on every seed
            Case((_acc(0.600, 0.550, 0.620), _parts)),  # far below
            Case(
                (
                    _acc(0.931, 0.926, 0.935, 0.930),
                    {"a": _acc(0.90, 0.91, 0.92, 0.93), "b": _acc(0.925, 0.921, 0.930, 0.926)},
                )
            ),  # fmt: skip
        ],
        hint="find the part with the highest mean accuracy; take the per-seed differences "
        "combination - best part; the 95% interval is mean ± t * std / sqrt(seeds) with "
        "std's ddof=1 (torch's default) and t = scipy.stats.t.ppf(0.975, seeds - 1). "
        'Return (best part, "adds up" | "worse" | "not distinguishable").',
    )
)

register(
    Exercise(
        name="combining.noise_to_weight_ratio",
        entry_point="noise_to_weight_ratio",
        reference=noise_to_weight_ratio,
        cases=[
            Case((_weights, 0.1)),
            Case((_weights[:1], 0.05)),
            Case(([torch.ones(2, 2)], 1.0)),
        ],
        hint="for each tensor w: sigma / sqrt(mean(w ** 2)); return a list, one number per layer.",
    )
)
