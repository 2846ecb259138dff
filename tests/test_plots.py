import matplotlib.pyplot as plt
import pytest

from regutils import History, plot_gap, plot_learning_curves, plot_sweep
from regutils.plots import TRAIN_STYLE, VAL_STYLE


def run(offset):
    return History([
        {"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 0.1 / e,
         "val_loss": 1 / e + offset, "val_acc": 0.9 - offset}
        for e in range(1, 6)
    ])  # fmt: skip


def test_learning_curves_train_dashed_val_solid():
    ax = plot_learning_curves({"baseline": [run(0.1), run(0.2)], "L2": run(0.0)})
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "baseline, training",
        "baseline, validation",
        "L2, training",
        "L2, validation",
    ]
    styles = [line.get_linestyle() for line in ax.get_lines()]
    assert styles == [TRAIN_STYLE, VAL_STYLE] * 2
    assert ax.get_xlabel() == "epoch" and ax.get_title()
    plt.close("all")


def test_gap_and_sweep():
    ax = plot_gap({"baseline": [run(0.1), run(0.2)]})
    gap = ax.get_lines()[0].get_ydata()
    assert gap[-1] == pytest.approx((1 - 0.02) - (0.9 - 0.15))
    ax = plot_sweep([1, 2, 3], [0.1, 0.05, 0.01], [0.3, 0.2, 0.4], xlabel="degree", ylabel="MSE")
    assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
    with pytest.raises(ValueError, match="validation values must have shape"):
        plot_sweep([1, 2], [0.1, 0.2], [0.3], xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="metric"):
        plot_learning_curves(run(0), metric="accuracy")
    plt.close("all")


def test_weight_histograms_count_exact_zeros():
    import torch
    from torch import nn

    from regutils import plot_weight_histograms

    layer = nn.Linear(4, 5)
    with torch.no_grad():
        layer.weight[:, :2] = 0.0  # half the weights
    fig = plot_weight_histograms({"baseline": torch.randn(100), "L1": layer})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["baseline: 0% exactly zero", "L1: 50% exactly zero"]
    with pytest.raises(TypeError, match="weights must be a non-empty mapping"):
        plot_weight_histograms({})
    plt.close("all")


def test_plot_gains_draws_each_regime_with_its_interval():
    import matplotlib.pyplot as plt

    from regutils import Interval, plot_gains

    gains = {
        "easy": {"L2": Interval(0.5, -0.5, 1.5, 5), "CNN": Interval(1.0, 0.0, 2.0, 5)},
        "hard": {"L2": Interval(6.0, 4.0, 8.0, 5)},  # no CNN here: skipped
    }
    ax = plot_gains(gains)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["L2", "CNN"]
    assert [c.get_label() for c in ax.containers] == ["easy", "hard"]
    bars = ax.containers[1].lines[2][0].get_segments()  # the interval of L2, hard
    assert [tuple(p[1] for p in seg) for seg in bars] == [(4.0, 8.0)]
    plt.close(ax.figure)
    with pytest.raises(TypeError, match="regime -> technique"):
        plot_gains({})
