import random

import numpy as np
import pytest
import torch

from regutils import (
    Recipe,
    fit,
    load_digits,
    make_polynomial_data,
    mlp,
    numpy_generator,
    run_seeds,
    seed_shift,
    seeds,
    set_seed,
    torch_generator,
)
from regutils.seed import SEED_SHIFT_VARIABLE, shifted


def test_same_seed_same_history_on_cpu():
    data = load_digits()

    def run(seed):
        set_seed(seed)
        model = mlp(hidden=(32,), dropout=0.2, input_noise=0.05)
        return fit(model, data.train, data.val, epochs=3, batch_size=32, lr=1e-2)

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_seeds_python_numpy_and_torch():
    set_seed(3)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(3)
    assert a == (random.random(), np.random.rand(), torch.rand(1).item())


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError)])
def test_bad_seed(bad, error):
    with pytest.raises(error, match="seed"):
        set_seed(bad)


# --- the seed shift: REGUTILS_SEED_SHIFT moves every seed a chapter uses ------------------------


def draws(seed):
    """One number from every source a chapter draws from, after seeding with ``seed``."""
    set_seed(seed)
    return (
        random.random(),
        np.random.rand(),
        torch.rand(1).item(),
        torch.rand(1, generator=torch_generator(seed)).item(),
        float(numpy_generator(seed).random()),
        float(make_polynomial_data(n_train=1, n_val=1, seed=seed).train[1][0]),
    )


def test_shift_moves_every_seed_by_the_constant(monkeypatch):
    monkeypatch.delenv(SEED_SHIFT_VARIABLE, raising=False)
    plain = draws(1003)
    monkeypatch.setenv(SEED_SHIFT_VARIABLE, "1000")
    assert seed_shift() == 1000 and shifted(3) == 1003
    assert draws(3) == plain  # seed 3 shifted by 1000 is seed 1003, in every source
    assert draws(3) != draws(4)


def test_unset_or_empty_shift_is_zero(monkeypatch):
    monkeypatch.setenv(SEED_SHIFT_VARIABLE, "")
    assert seed_shift() == 0
    monkeypatch.delenv(SEED_SHIFT_VARIABLE)
    assert seed_shift() == 0 and shifted(5) == 5


def test_shift_reaches_a_recipes_stacked_streams(monkeypatch):
    recipe = Recipe(lambda: mlp(hidden=(8,), dropout=0.3), epochs=2, lr=1e-2)
    monkeypatch.delenv(SEED_SHIFT_VARIABLE, raising=False)
    plain = [h.final["val_loss"] for h in run_seeds(recipe, [500, 501])]
    monkeypatch.setenv(SEED_SHIFT_VARIABLE, "500")
    moved = [h.final["val_loss"] for h in run_seeds(recipe, [0, 1])]
    assert recipe.last_mode == "stacked"
    assert moved == pytest.approx(plain, abs=1e-6)


def test_shift_leaves_the_digits_split_alone(monkeypatch):
    monkeypatch.delenv(SEED_SHIFT_VARIABLE, raising=False)
    before = load_digits().train[1]
    monkeypatch.setenv(SEED_SHIFT_VARIABLE, "7")
    assert torch.equal(load_digits().train[1], before)


@pytest.mark.parametrize("bad", ["-1", "1.5", "ten"])
def test_bad_shift_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv(SEED_SHIFT_VARIABLE, bad)
    with pytest.raises(ValueError, match=f"{SEED_SHIFT_VARIABLE}.*{bad}"):
        set_seed(0)


def test_seeds_lists_the_chapters_seeds():
    assert seeds(3) == [0, 1, 2] and seeds(2, start=10) == [10, 11]
    with pytest.raises(ValueError, match="n must be"):
        seeds(0)
    with pytest.raises(TypeError, match="start"):
        seeds(2, start=1.0)
