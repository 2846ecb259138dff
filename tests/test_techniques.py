"""technique_recipes, measure and paired_gain: the capstone's shared machinery."""

import numpy as np
import pytest
import torch
from scipy import stats

from regutils import (
    BEST,
    EarlyStopping,
    ForEachModel,
    MaxNorm,
    Recipe,
    load_digits,
    mlp,
    paired_image_interval,
    paired_interval,
)
from regutils.techniques import (
    LABEL_SMOOTHING,
    first_layer_l1,
    measure,
    no_curves,
    paired_gain,
    technique_recipes,
)


def test_every_technique_at_its_chosen_setting():
    recipes = technique_recipes()
    assert list(recipes)[0] == "baseline" and len(recipes) == 11
    assert recipes["baseline"].fit_kwargs == Recipe().fit_kwargs
    assert recipes["L2"].fit_kwargs["penalty"].keywords == BEST["l2"]
    assert recipes["label smoothing"].fit_kwargs["loss"].keywords == {
        "label_smoothing": LABEL_SMOOTHING
    }
    (stop,) = recipes["early stopping"].fit_kwargs["callbacks"]
    assert isinstance(stop, EarlyStopping) and stop.patience == BEST["early_stopping"]["patience"]
    (bound,) = recipes["max-norm"].fit_kwargs["callbacks"]
    assert isinstance(bound, MaxNorm) and bound.max_norm == BEST["max_norm"]["max_norm"]
    (l1,) = recipes["L1 (first layer)"].fit_kwargs["callbacks"]
    assert isinstance(l1, ForEachModel)
    dropped = recipes["dropout"].make_model()
    assert any(isinstance(m, torch.nn.Dropout) and m.p == BEST["dropout"]["p"] for m in dropped)
    model = recipes["baseline"].make_model()
    layer = first_layer_l1(model)
    assert layer.module is model[0] and layer.lam == BEST["l1"]["lam"]
    with pytest.raises(ValueError, match="model must hold an nn.Linear"):
        first_layer_l1(torch.nn.Sequential(torch.nn.ReLU()))


def test_measure_scores_every_seed_without_the_curve():
    data = load_digits(n_train=60, n_val=40)
    recipe = Recipe(lambda: mlp(hidden=(16,)), data, epochs=3, lr=1e-2)
    nets, frame, right = measure(recipe, [0, 1])
    assert len(nets) == 2 and right.shape == (2, 40) and right.dtype == bool
    assert list(frame["seed"]) == [0, 1] and frame["stacked"].all()
    assert frame["val_acc"].tolist() == pytest.approx(right.mean(axis=1).tolist())
    assert (frame["gap"] == frame["train_acc"] - frame["val_acc"]).all()
    with_curve = recipe.train([0, 1])  # the same weights as with the validation curve
    for net, (other, history) in zip(nets, with_curve):
        for p, q in zip(net.parameters(), other.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
        assert frame["epochs"][0] == len(history)
    stopping = Recipe(lambda: mlp(hidden=(16,)), data, epochs=300, lr=0.1,
                      callbacks=[EarlyStopping(patience=1)])  # fmt: skip
    _, frame, _ = measure(stopping, [0])
    assert frame["epochs"][0] < 300  # early stopping read the validation curve


def test_measure_bad_input():
    data = load_digits(n_train=60, n_val=40)
    with pytest.raises(TypeError, match="recipe must be a Recipe"):
        measure(lambda seed: None, [0])
    with pytest.raises(TypeError, match="data must be a Split"):
        measure(Recipe(), [0], data=data.train)
    with pytest.raises(ValueError, match="must have a validation set"):
        measure(Recipe(), [0], data=no_curves(data))
    with pytest.raises(TypeError, match="data must be a Split"):
        no_curves((1, 2))


def test_paired_gain_counts_seeds_then_images():
    rng = np.random.default_rng(0)
    a = rng.random((4, 50)) < 0.9
    b = rng.random((5, 50)) < 0.85  # one seed more: compared on the first four
    gain, seeds_only, both, p = paired_gain(a, b)
    per_seed = a.mean(axis=1) - b[:4].mean(axis=1)
    assert gain == pytest.approx(per_seed.mean())
    interval = paired_interval(a.mean(axis=1), b[:4].mean(axis=1))
    assert seeds_only == pytest.approx(interval.high - interval.mean)
    images = paired_image_interval(a.astype(float), b[:4].astype(float))
    assert both == pytest.approx(images.high - images.mean)
    assert p == pytest.approx(stats.ttest_1samp(per_seed, 0.0).pvalue)
    same = np.ones((3, 10), dtype=bool)
    assert np.isnan(paired_gain(same, same)[3])
    with pytest.raises(ValueError, match=r"shape \(seeds, images\)"):
        paired_gain(a[0], b[0])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        paired_gain(a[:1], b)
