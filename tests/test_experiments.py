import pytest

from regutils import History, compare, fit, load_digits, mlp, run_seeds, summarize


def test_compare_runs_every_config_over_every_seed():
    data = load_digits()
    seen = []

    def small(seed):
        seen.append(seed)
        return fit(mlp(hidden=(8,)), data.train, data.val, epochs=2, lr=1e-2)

    table = compare({"a": small, "b": small}, seeds=[4, 5])
    assert seen == [4, 5, 4, 5]
    assert list(table.index) == ["a", "b"]
    # same function, same seeds: identical results, so the two rows agree
    assert table.loc["a", ("val_acc", "mean")] == table.loc["b", ("val_acc", "mean")]
    assert len(table.attrs["runs"]["a"]) == 2


def test_summarize_gap_and_statistics():
    def h(train_acc, val_acc):
        return History([{"epoch": 1, "train_loss": 0.1, "train_acc": train_acc,
                         "val_loss": 0.3, "val_acc": val_acc}])  # fmt: skip

    table = summarize({"x": [h(1.0, 0.9), h(1.0, 0.8)]})
    assert table.loc["x", ("gap", "mean")] == pytest.approx(0.15)
    assert table.loc["x", ("gap", "std")] == pytest.approx(0.0707, abs=1e-4)  # sample std
    assert table.loc["x", ("seeds", "n")] == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="seeds must hold at least one"):
        run_seeds(lambda s: History(), [])
    with pytest.raises(TypeError, match="must return a History"):
        run_seeds(lambda s: 0.9, [0])
    with pytest.raises(TypeError, match="configs must be a non-empty mapping"):
        compare([], seeds=[0])
    with pytest.raises(ValueError, match="seeds"):
        compare({"a": lambda s: History()}, seeds=[-1])


def test_summarize_averages_what_runs_put_in_info():
    runs = []
    for norm in (2.0, 4.0):
        h = History([{"epoch": 1, "train_loss": 0.1, "val_loss": 0.2}])
        h.info["weight_norm"] = norm
        runs.append(h)
    table = summarize({"x": runs})
    assert table.loc["x", ("weight_norm", "mean")] == 3.0
    assert runs[0] == History(
        [{"epoch": 1, "train_loss": 0.1, "val_loss": 0.2}]
    )  # info not compared
