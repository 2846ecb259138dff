"""Plots with one visual language across the book.

* Line style means the split: **training dashed, validation solid**, everywhere.
* With one configuration, color also means the split (training blue, validation
  orange); with several, color means the configuration (``baseline`` is always grey).
* Several seeds of one configuration are drawn as their mean with a shaded band of
  ± one standard deviation.

Every function draws on ``ax`` (a new figure when ``None``) and returns the axes,
so chapters can compose panels with ``plt.subplots``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from regutils._checks import check_choice
from regutils.history import History

BASELINE_COLOR = "0.35"
TRAIN_COLOR = "C0"  # used when a plot shows a single configuration
VAL_COLOR = "C1"
TRAIN_STYLE = "--"
VAL_STYLE = "-"
_PALETTE = plt.get_cmap("tab10").colors
_METRICS = ("loss", "acc")
_LABELS = {"loss": "loss (cross-entropy)", "acc": "accuracy"}


def color_for(name: str, index: int) -> object:
    """The color of a configuration: grey for ``"baseline"``, else the index-th of tab10."""
    return BASELINE_COLOR if name == "baseline" else _PALETTE[index % len(_PALETTE)]


def _as_runs(histories: object) -> dict[str, list[History]]:
    if isinstance(histories, History):
        return {"model": [histories]}
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError(
            "histories must be a History or a non-empty mapping of name -> History "
            f"or list of History, but got {type(histories).__name__}"
        )
    runs = {}
    for name, value in histories.items():
        runs[name] = [value] if isinstance(value, History) else list(value)
        if not runs[name] or not all(isinstance(h, History) for h in runs[name]):
            raise TypeError(f"histories[{name!r}] must be a History or a list of History")
    return runs


def _mean_std(histories: Sequence[History], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over runs; runs of different length are cut to the shortest."""
    n = min(len(h) for h in histories)
    values = np.array([h.metric(key)[:n] for h in histories])  # (runs, epochs)
    return values.mean(axis=0), values.std(axis=0)


def _band(ax: Axes, epochs: np.ndarray, mean: np.ndarray, std: np.ndarray, **style) -> None:
    ax.plot(epochs, mean, **style)
    if np.any(std > 0):
        ax.fill_between(epochs, mean - std, mean + std, color=style["color"], alpha=0.15, lw=0)


def plot_learning_curves(
    histories: History | Mapping[str, History | Sequence[History]],
    *,
    metric: str = "loss",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Training (dashed) and validation (solid) curves of one or more runs.

    Args:
        histories: a History, or name -> History, or name -> list of History (seeds,
            drawn as mean ± std).
        metric (str): ``"loss"`` or ``"acc"``. Default: ``"loss"``.
        ax (Axes, optional): where to draw. Default: a new figure.
        title (str, optional): the title. Default: "Learning curves".

    Returns:
        Axes: the axes drawn on.
    """
    check_choice("metric", metric, _METRICS)
    runs = _as_runs(histories)
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    for i, (name, hs) in enumerate(runs.items()):
        for split, style in (("train", TRAIN_STYLE), ("val", VAL_STYLE)):
            if len(runs) == 1:
                color = TRAIN_COLOR if split == "train" else VAL_COLOR
            else:
                color = color_for(name, i)
            key = f"{split}_{metric}"
            if key not in hs[0].metrics:
                continue
            mean, std = _mean_std(hs, key)
            epochs = np.arange(1, len(mean) + 1)
            label = f"{name}, {'training' if split == 'train' else 'validation'}"
            _band(ax, epochs, mean, std, color=color, ls=style, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(_LABELS[metric])
    ax.set_title(title or "Learning curves")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_gap(
    histories: History | Mapping[str, History | Sequence[History]],
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """The generalization gap, training minus validation accuracy, over epochs.

    Args:
        histories: as in :func:`plot_learning_curves`; runs need accuracies.
        ax (Axes, optional): where to draw. Default: a new figure.
        title (str, optional): the title. Default: "Generalization gap".

    Returns:
        Axes: the axes drawn on.
    """
    runs = _as_runs(histories)
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    for i, (name, hs) in enumerate(runs.items()):
        if "val_acc" not in hs[0].metrics:
            raise ValueError(f"plot_gap needs accuracies, but {name!r} recorded {hs[0].metrics}")
        n = min(len(h) for h in hs)
        gaps = np.array([np.subtract(h.train_acc[:n], h.val_acc[:n]) for h in hs])
        _band(
            ax, np.arange(1, n + 1), gaps.mean(0), gaps.std(0), color=color_for(name, i), label=name
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training − validation accuracy")
    ax.set_title(title or "Generalization gap")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_sweep(
    values: Sequence[float],
    train: Sequence[float] | np.ndarray,
    val: Sequence[float] | np.ndarray,
    *,
    xlabel: str,
    ylabel: str,
    train_std: Sequence[float] | None = None,
    val_std: Sequence[float] | None = None,
    log_x: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Training (dashed) and validation (solid) error against a knob: model size, λ, p...

    The U-shaped validation curve of the Overfitting chapter, and every "too little
    / too much" sweep of the technique chapters, are drawn with this.

    Args:
        values: the knob's values (x axis).
        train, val: the metric at each value.
        xlabel, ylabel (str): axis labels, with units.
        train_std, val_std (optional): standard deviations over seeds, drawn as bands.
        log_x (bool): logarithmic x axis. Default: ``False``.
        ax (Axes, optional): where to draw. Default: a new figure.
        title (str, optional): the title. Default: ``ylabel`` against ``xlabel``.

    Returns:
        Axes: the axes drawn on.
    """
    x = np.asarray(values, dtype=float)
    curves = {"training": (train, train_std, TRAIN_STYLE), "validation": (val, val_std, VAL_STYLE)}
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    for (label, (mean, std, style)), color in zip(curves.items(), (TRAIN_COLOR, VAL_COLOR)):
        mean = np.asarray(mean, dtype=float)
        if mean.shape != x.shape:
            raise ValueError(f"{label} values must have shape {x.shape}, but got {mean.shape}")
        std = np.zeros_like(mean) if std is None else np.asarray(std, dtype=float)
        _band(ax, x, mean, std, color=color, ls=style, marker="o", ms=4, label=label)
    if log_x:
        ax.set_xscale("log")
        ax.set_xticks(x, labels=[f"{v:g}" for v in x])  # the swept values, not powers of ten
        ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"{ylabel} against {xlabel}")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_digits(
    X,
    y=None,
    *,
    n: int = 10,
    ncols: int = 10,
    title: str | None = None,
):
    """The first ``n`` digit images in a grid, each titled with its label.

    Args:
        X (Tensor): images of shape ``(N, 64)`` or ``(N, 1, 8, 8)``, values in [0, 1].
        y (Tensor, optional): labels, shown above the images.
        n (int): how many images. Default: 10.
        ncols (int): images per row. Default: 10.
        title (str, optional): the figure title.

    Returns:
        Figure: the figure drawn on.
    """
    X = np.asarray(X).reshape(len(X), -1)
    if X.shape[1] != 64:
        raise ValueError(f"X must hold 8x8 images, (N, 64) or (N, 1, 8, 8), but got {X.shape}")
    n = min(n, len(X))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 1.25 + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(X[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            if y is not None:
                ax.set_title(str(int(y[i])), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_weight_histograms(
    weights: Mapping[str, object],
    *,
    bins: int = 60,
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
):
    """Histograms of weights side by side, one panel per name, on shared axes.

    Exact zeros are counted in the title of each panel, since a histogram bar cannot
    tell a zero from a merely small weight.

    Args:
        weights (mapping): name -> a tensor of weights, or an ``nn.Module`` (its
            weight matrices, see :func:`regutils.penalized_parameters`).
        bins (int): bins per histogram, over the common range. Default: 60.
        axes (sequence of Axes, optional): one per name. Default: a new row of panels.
        title (str, optional): the figure title.

    Returns:
        Figure: the figure drawn on.
    """
    from torch import nn

    from regutils.penalties import penalized_parameters

    if not isinstance(weights, Mapping) or not weights:
        raise TypeError("weights must be a non-empty mapping of name -> tensor or nn.Module")
    values = {}
    for name, w in weights.items():
        if isinstance(w, nn.Module):
            w = np.concatenate([p.detach().cpu().numpy().ravel() for p in penalized_parameters(w)])
        values[name] = np.asarray(w.detach().cpu() if hasattr(w, "detach") else w).ravel()
    limit = max(np.abs(v).max() for v in values.values())
    edges = np.linspace(-limit, limit, bins + 1)
    if axes is None:
        fig, axes = plt.subplots(
            1, len(values), figsize=(4 * len(values), 3.6), sharey=True, layout="constrained"
        )
        axes = np.atleast_1d(axes)
    fig = axes[0].figure
    for i, (ax, (name, v)) in enumerate(zip(axes, values.items())):
        ax.hist(v, bins=edges, color=color_for(name, i))
        ax.set_yscale("log")
        ax.set_title(f"{name}: {np.mean(v == 0):.0%} exactly zero", fontsize=10)
        ax.set_xlabel("weight value")
    axes[0].set_ylabel("number of weights (log scale)")
    if title:
        fig.suptitle(title)
    return fig


def plot_reliability(
    probs: Mapping[str, object],
    targets: object,
    *,
    bins: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Reliability diagram: accuracy against confidence, one line per model.

    Each model's predictions are binned by their top probability
    (:func:`regutils.reliability`); a point is a bin's mean confidence and its
    accuracy, so a calibrated model lies on the diagonal, an over-confident one below it and an
    under-confident one above. The legend gives each model's expected calibration error.

    Args:
        probs (mapping): model name -> ``(N, classes)`` class probabilities on the same images.
        targets (Tensor): ``(N,)`` integer labels.
        bins (int): equal-width confidence bins. Default: 10.
        ax (Axes, optional): where to draw. Default: a new figure.
        title (str, optional): the title. Default: "Reliability diagram".

    Returns:
        Axes: the axes drawn on.
    """
    from regutils.uncertainty import expected_calibration_error, reliability

    if not isinstance(probs, Mapping) or not probs:
        raise TypeError(
            f"probs must be a non-empty mapping of name -> probabilities, but got "
            f"{type(probs).__name__}"
        )
    ax = ax if ax is not None else plt.subplots(figsize=(5, 5))[1]
    ax.plot([0, 1], [0, 1], color="0.6", ls=":", label="calibrated")
    for i, (name, p) in enumerate(probs.items()):
        r = reliability(p, targets, bins=bins)
        ece = expected_calibration_error(p, targets, bins=bins)
        filled = r.count > 0
        ax.plot(
            r.confidence[filled],
            r.accuracy[filled],
            marker="o",
            ms=4,
            color=color_for(name, i),
            label=f"{name} (ECE {ece:.3f})",
        )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (top probability, bin mean)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title(title or "Reliability diagram")
    ax.legend(fontsize="small", loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def plot_gains(
    gains: Mapping[str, Mapping[str, object]],
    *,
    ax: Axes | None = None,
    ylabel: str = "gain over the baseline (points)",
    title: str | None = None,
) -> Axes:
    """Each technique's gain over the baseline in each regime, with its interval: a regime map.

    One group of points per technique; within it, one point per regime (a color per regime),
    with a vertical bar for its confidence interval. A bar that crosses the dashed zero line
    is a gain not distinguishable from none.

    Args:
        gains (mapping): regime name -> technique name -> :class:`regutils.Interval` (or any
            ``(mean, low, high, ...)`` tuple), in the units of ``ylabel``. Techniques missing
            from a regime (weight sharing where the input has no positions) are skipped.
        ax (Axes, optional): where to draw. Default: a new figure.
        ylabel (str): the y axis label. Default: "gain over the baseline (points)".
        title (str, optional): the title. Default: "Where each technique matters".

    Returns:
        Axes: the axes drawn on.

    Example::

        >>> from regutils import Interval
        >>> ax = plot_gains({"200 clean": {"L2": Interval(0.5, -0.2, 1.2, 5)},
        ...                  "200, 40% noisy": {"L2": Interval(6.0, 4.0, 8.0, 5)}})
        >>> [t.get_text() for t in ax.get_xticklabels()]
        ['L2']
    """
    if not isinstance(gains, Mapping) or not gains:
        raise TypeError(
            "gains must be a non-empty mapping of regime -> technique -> interval, but got "
            f"{type(gains).__name__}"
        )
    techniques: list[str] = []
    for regime, row in gains.items():
        if not isinstance(row, Mapping):
            raise TypeError(f"gains[{regime!r}] must be a mapping of technique -> interval")
        techniques += [t for t in row if t not in techniques]
    ax = ax if ax is not None else plt.subplots(figsize=(max(6, 1.1 * len(techniques)), 4))[1]
    width = 0.8 / len(gains)
    for r, (regime, row) in enumerate(gains.items()):
        xs, means, lows, highs = [], [], [], []
        for t, technique in enumerate(techniques):
            if technique not in row:
                continue
            mean, low, high = (float(v) for v in tuple(row[technique])[:3])
            xs.append(t - 0.4 + width * (r + 0.5))
            means.append(mean)
            lows.append(mean - low)
            highs.append(high - mean)
        ax.errorbar(xs, means, yerr=[lows, highs], fmt="o", ms=5, capsize=3,
                    color=_PALETTE[r % len(_PALETTE)], label=regime)  # fmt: skip
    ax.axhline(0.0, color="0.5", ls="--", lw=1)
    ax.set_xticks(range(len(techniques)), labels=techniques, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Where each technique matters")
    ax.legend(fontsize="small", title="regime", title_fontsize="small")
    ax.grid(alpha=0.3, axis="y")
    return ax
