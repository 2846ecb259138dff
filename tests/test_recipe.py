"""Recipe: one configuration, trained seed by seed or as one stacked model.

The stacked path must compute what the sequential one computes for every seed: the same
initial weights, mini-batches, dropout masks, noise and augmentation draws, so that the
weights and every History record agree up to floating-point rounding (the batched matrix
products add in another order). Tolerance: ``rtol = atol = 1e-5`` after a few epochs;
measured differences are about 1e-8.
"""

import random

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from regutils import (
    EarlyStopping,
    GaussianDropout,
    GaussianNoise,
    History,
    MaxNorm,
    Recipe,
    Split,
    add_weight_noise,
    compare,
    l1_penalty,
    l2_penalty,
    load_digits,
    mlp,
    reference_run,
    run_seeds,
    set_seed,
    small_cnn,
    soft_tying_penalty,
    unit_norms,
)

TOL = {"rtol": 1e-5, "atol": 1e-5}
SEEDS = [0, 3, 1]


def small(**options):
    return lambda: mlp(hidden=(16, 12), **options)


def assert_same_runs(stacked, sequential):
    """Weights and every History record agree within TOL, seed by seed."""
    assert len(stacked) == len(sequential)
    for (m1, h1), (m2, h2) in zip(stacked, sequential):
        assert len(h1) == len(h2)
        for r1, r2 in zip(h1.records, h2.records):
            assert r1.keys() == r2.keys()
            torch.testing.assert_close(r1, r2, **TOL)
        for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters()):
            assert n1 == n2
            torch.testing.assert_close(p1, p2, **TOL)


def both_ways(recipe, seeds=SEEDS):
    """The recipe trained stacked and one seed after another, with the global random states
    each leaves behind (they must agree too: the last seed's)."""
    stacked = recipe.train(seeds)
    mode = recipe.last_mode
    after_stacked = (torch.get_rng_state(), np.random.get_state()[1], random.getstate())
    sequential = recipe.train(seeds, stack=False)
    after_sequential = (torch.get_rng_state(), np.random.get_state()[1], random.getstate())
    return stacked, sequential, mode, (after_stacked, after_sequential)


def noisy_augment(x, y):
    """Draws from torch and NumPy, as augmentations do."""
    shift = torch.from_numpy(np.random.uniform(-0.1, 0.1, size=x.shape[1:])).float()
    return x + 0.1 * torch.randn_like(x) + shift, y


def mixup_like(x, y):
    """Soft labels of shape (B, classes), drawn at random: the loss takes the general path."""
    onehot = nn.functional.one_hot(y, 10).float()
    lam = torch.rand(len(x), 1)
    perm = torch.randperm(len(x))
    return lam * x + (1 - lam) * x[perm], lam * onehot + (1 - lam) * onehot[perm]


def squared_l2(m):
    return l2_penalty(m, lam=1e-2) ** 2  # not a sum over weights: still each seed's own


def noisy_l2(m):
    return l2_penalty(m, lam=1e-2) * (1 + 0.1 * torch.rand(()))  # draws a random number


ANCHOR = mlp(hidden=(16, 12), dropout=0.1)
_X = torch.randn(70, 3, generator=torch.Generator().manual_seed(0))
_y = _X.pow(2).sum(dim=1)  # float targets: mean squared error, no accuracy
REGRESSION = Split(
    (_X[:50], _y[:50]), (_X[50:], _y[50:]), None
)  # the same names as small(dropout=0.1)


STACKABLE = {
    "weight noise (a parametrization) with dropout and input noise": dict(
        make_model=lambda: add_weight_noise(small(dropout=0.2, input_noise=0.1)(), 0.05),
        epochs=3,
    ),
    "plain, batch 32": dict(make_model=small(), epochs=3),
    "dropout and input noise": dict(
        make_model=small(dropout=0.3, input_noise=0.2), epochs=3, batch_size=32
    ),
    "gaussian dropout": dict(
        make_model=lambda: nn.Sequential(
            nn.Linear(64, 16), nn.ReLU(), GaussianDropout(0.3), nn.Linear(16, 10)
        ),
        epochs=3,
    ),
    "full batch, l2 penalty": dict(
        make_model=small(dropout=0.5),
        epochs=4,
        batch_size=None,
        lr=1e-2,
        penalty=lambda m: l2_penalty(m, lam=1e-2),
    ),
    "last partial batch, l1 with biases, sgd": dict(
        make_model=small(activation="tanh"),
        epochs=3,
        batch_size=48,  # 200 = 4 * 48 + 8
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        penalty=lambda m: l1_penalty(m, lam=1e-3, include_bias=True),
    ),
    "augment drawing torch and numpy numbers, adamw": dict(
        make_model=small(dropout=0.2, activation="gelu"),
        epochs=3,
        optimizer="adamw",
        weight_decay=0.1,
        augment=noisy_augment,
    ),
    "adamw decaying the matrices only (decay_bias=False)": dict(
        make_model=small(),
        epochs=3,
        optimizer="adamw",
        weight_decay=1.0,
        decay_bias=False,
    ),
    "soft labels from augment, penalty on one layer": dict(
        make_model=small(),
        epochs=2,
        augment=mixup_like,
        penalty=lambda m: l2_penalty(m[0], lam=1e-2),
    ),
    "penalties: squared, random, tied to an anchor by name": dict(
        make_model=small(dropout=0.1),
        epochs=2,
        penalty=lambda m: squared_l2(m) + noisy_l2(m) + soft_tying_penalty(m, ANCHOR, lam=0.1),
    ),
    "max-norm on every weight (MaxNorm bound to no module), sgd": dict(
        make_model=small(dropout=0.2),
        epochs=3,
        optimizer="sgd",
        lr=0.5,
        momentum=0.9,
        callbacks=[MaxNorm(None, 0.4)],
    ),
    "regression (mse), 1 input": dict(
        make_model=lambda: mlp(3, (8,), 1, activation="tanh"),
        data=REGRESSION,
        epochs=3,
        batch_size=8,
        lr=1e-2,
    ),
    "flatten, no bias, images": dict(
        make_model=lambda: nn.Sequential(
            nn.Flatten(),
            GaussianNoise(0.1),
            nn.Linear(64, 20, bias=False),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(20, 10),
        ),  # fmt: skip
        data=load_digits(flatten=False),
        epochs=2,
        shuffle=False,
    ),
}


@pytest.mark.parametrize("name", list(STACKABLE))
def test_stacked_training_equals_sequential_training(name):
    recipe = Recipe(**STACKABLE[name])
    stacked, sequential, mode, (rng_a, rng_b) = both_ways(recipe)
    assert mode == "stacked"
    assert recipe.last_mode == "sequential: stack=False"
    assert_same_runs(stacked, sequential)
    assert torch.equal(rng_a[0], rng_b[0]) and np.array_equal(rng_a[1], rng_b[1])
    assert rng_a[2] == rng_b[2]


def test_sequential_training_is_reference_run():
    assert Recipe(epochs=2)(3) == reference_run(3, epochs=2)
    data = load_digits(n_train=100)
    options = dict(epochs=2, lr=1e-2, batch_size=None)
    recipe = Recipe(small(dropout=0.5), data, **options)
    set_seed(1)
    expected = reference_run(model=recipe.make_model(), data=data, **options)
    assert recipe(1) == expected


def test_run_seeds_and_compare_stack_a_recipe():
    recipe = Recipe(small(dropout=0.2), epochs=2)
    stacked = run_seeds(recipe, [2, 0])
    assert recipe.last_mode == "stacked"
    sequential = run_seeds(recipe, [2, 0], stack=False)
    assert recipe.last_mode == "sequential: stack=False"
    for h1, h2 in zip(stacked, sequential):
        for r1, r2 in zip(h1.records, h2.records):
            torch.testing.assert_close(r1, r2, **TOL)
    table = compare({"a": recipe}, seeds=[2, 0])
    assert recipe.last_mode == "stacked"
    assert table.loc["a", ("val_loss", "mean")] == pytest.approx(
        np.mean([h.final["val_loss"] for h in sequential]), rel=1e-5
    )
    compare({"a": recipe}, seeds=[2, 0], stack=False)
    assert recipe.last_mode == "sequential: stack=False"


def random_crop_of_batch(x, y):
    k = int(torch.randint(5, 9, ()))  # seeds draw different sizes: no common stacked shape
    return x[:k], y[:k]


class Doubled(nn.Module):
    """A parametrization, not WeightNoise: the stacked loop would ignore it."""

    def forward(self, weight):
        return 2 * weight


def doubled(model):
    for layer in model:
        if isinstance(layer, nn.Linear):
            parametrize.register_parametrization(layer, "weight", Doubled())
    return model


FALLBACK = {
    "callbacks": (dict(make_model=small(), callbacks=[EarlyStopping(patience=1)]), "callbacks"),
    "batch norm": (dict(make_model=small(batch_norm=True)), "BatchNorm1d"),
    "convolution": (
        dict(make_model=lambda: small_cnn(channels=(4,)), data=load_digits(flatten=False)),
        "Conv2d",
    ),
    "augment whose batch size varies": (
        dict(make_model=small(), augment=random_crop_of_batch),
        "different shapes",
    ),
    "weight noise with a penalty": (
        dict(
            make_model=lambda: add_weight_noise(mlp(hidden=(16,)), 0.1),
            penalty=lambda m: l2_penalty(m, lam=1e-2),
        ),
        "noisy weights",
    ),
    "a parametrization other than weight noise": (
        dict(make_model=lambda: doubled(mlp(hidden=(16,)))),
        "parametrization other than WeightNoise",
    ),
    "progress bar": (dict(make_model=small(), progress=True), "progress"),
    "one seed": (dict(make_model=small()), "one seed"),
}


@pytest.mark.parametrize("name", list(FALLBACK))
def test_unsupported_recipes_fall_back_to_sequential_training(name):
    options, reason = FALLBACK[name]
    recipe = Recipe(**options, epochs=2)
    seeds = [1] if name == "one seed" else [1, 0]
    fallback = recipe.train(seeds)
    assert recipe.last_mode.startswith("sequential") and reason in recipe.last_mode
    sequential = recipe.train(seeds, stack=False)
    for (m1, h1), (m2, h2) in zip(fallback, sequential):
        assert h1 == h2  # the same path: bit for bit
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            assert torch.equal(p1, p2)


def test_stacked_max_norm_keeps_every_seed_in_the_ball():
    recipe = Recipe(small(), epochs=2, lr=0.1, callbacks=[MaxNorm(None, 0.3)])
    for model, _ in recipe.train([0, 1]):
        assert recipe.last_mode == "stacked"
        assert unit_norms(model).max() <= 0.3 + 1e-6
    with pytest.raises(TypeError, match=r"MaxNorm\(None, c\)"):
        Recipe(small(), callbacks=[MaxNorm(nn.Linear(2, 2), 0.3)])


def test_plain_callables_run_one_seed_after_another():
    seen = []

    def run(seed):
        seen.append(seed)
        return History([{"epoch": 1, "train_loss": float(seed)}])

    assert [h.final["train_loss"] for h in run_seeds(run, [3, 1])] == [3.0, 1.0]
    assert seen == [3, 1]


def test_divergence_raises_fits_error_when_stacked():
    recipe = Recipe(small(), optimizer="sgd", lr=1e20, epochs=3)
    with pytest.raises(FloatingPointError, match="fit stopped at epoch 1: the training loss"):
        recipe.train([0, 1])
    assert "diverged" in recipe.last_mode


def test_bad_arguments():
    with pytest.raises(TypeError, match="make_model must be a callable"):
        Recipe(3)
    with pytest.raises(TypeError, match="data must be a Split"):
        Recipe(data=load_digits().train)
    with pytest.raises(TypeError, match=r"unknown fit keywords \['epoch'\]"):
        Recipe(epoch=3)
    with pytest.raises(TypeError, match="stack must be a bool"):
        Recipe(epochs=1).train([0, 1], stack="yes")
    with pytest.raises(TypeError, match="stack must be a bool"):
        run_seeds(Recipe(epochs=1), [0], stack=1)
    with pytest.raises(TypeError, match="stack must be a bool"):
        compare({"a": Recipe(epochs=1)}, seeds=[0], stack=None)
    with pytest.raises(ValueError, match="seeds must hold at least one"):
        Recipe(epochs=1).train([])
    with pytest.raises(TypeError, match=r"make_model\(\) must be a torch.nn.Module"):
        Recipe(lambda: "model", epochs=1).train([0, 1])
    # fit's own errors, whether stacking was asked for or not
    for stack in (True, False):
        with pytest.raises(ValueError, match="lr must be in"):
            Recipe(small(), lr=-1.0, epochs=1).train([0, 1], stack=stack)
        with pytest.raises(ValueError, match="optimizer must be one of"):
            Recipe(small(), optimizer="lbfgs", epochs=1).train([0, 1], stack=stack)


def test_benchmark_scenario_times_every_setting(monkeypatch):
    from benchmarks import report, seeds

    monkeypatch.setattr(seeds, "SEEDS", (0, 1))
    results = seeds.run(reps=1, epochs=1, log=lambda line: None)
    rows = {(r["model"], r["setting"]): r for r in results["rows"]}
    assert set(rows) == {(m, s) for m in seeds.MODELS for s in seeds.SETTINGS}
    for model in seeds.MODELS:
        assert rows[model, seeds.SEQUENTIAL]["speedup"] == 1.0
        assert all(r["median_s"] > 0 for r in results["rows"])
    markdown = report.render_markdown({"machine": report.machine(1), "seeds": results})
    assert "## Seeds stacked" in markdown and "| reference MLP | stacked |" in markdown


def test_tracked_sets_are_measured_the_same_stacked():
    from regutils import Recipe, load_digits, mlp, run_seeds

    data = load_digits()
    recipe = Recipe(lambda: mlp(hidden=(16,)), data, epochs=3, lr=1e-2,
                    track={"test": data.test})  # fmt: skip
    stacked = run_seeds(recipe, [0, 1])
    assert recipe.last_mode == "stacked"
    one_by_one = run_seeds(recipe, [0, 1], stack=False)
    for a, b in zip(stacked, one_by_one):
        assert a.metric("test_acc") == pytest.approx(b.metric("test_acc"), abs=1e-6)
        assert a.metric("test_loss") == pytest.approx(b.metric("test_loss"), abs=1e-5)


def test_each_seed_trains_on_its_own_split():
    splits = [load_digits(n_train=60, n_val=40, seed=k) for k in (1, 2, 3)]
    recipe = Recipe(small(dropout=0.2), augment=noisy_augment, epochs=3, lr=1e-2)
    stacked = recipe.train(SEEDS, splits=splits)
    assert recipe.last_mode == "stacked"
    sequential = recipe.train(SEEDS, stack=False, splits=splits)
    assert_same_runs(stacked, sequential)
    for seed, split, (_, history) in zip(SEEDS, splits, stacked):  # each its own split
        alone = Recipe(small(dropout=0.2), split, augment=noisy_augment, epochs=3, lr=1e-2)
        torch.testing.assert_close(alone(seed).records, history.records, **TOL)
    # the splits differ: so do the runs on them, from the same seed
    same_seed = recipe.train([0, 0], splits=splits[:2])
    assert same_seed[0][1].final["train_loss"] != same_seed[1][1].final["train_loss"]


def test_splits_of_other_sizes_train_one_after_another():
    splits = [load_digits(n_train=60, n_val=40), load_digits(n_train=50, n_val=40)]
    recipe = Recipe(small(), epochs=2, lr=1e-2)
    runs = recipe.train([0, 1], splits=splits)
    assert recipe.last_mode == "sequential: the splits' training sets differ in size or shape"
    assert runs[1][1] == Recipe(small(), splits[1], epochs=2, lr=1e-2)(1)


def test_bad_splits():
    recipe = Recipe(small(), epochs=1)
    split = load_digits(n_train=60, n_val=40)
    with pytest.raises(TypeError, match="splits must be a list of Splits, one per seed"):
        recipe.train([0, 1], splits=split)
    with pytest.raises(TypeError, match=r"splits\[1\] must be a Split"):
        recipe.train([0, 1], splits=[split, split.train])
    with pytest.raises(ValueError, match=r"one Split per seed \(2\), but got 3"):
        recipe.train([0, 1], splits=[split] * 3)
