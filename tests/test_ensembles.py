"""Tests of regutils.ensembles: ensembles, bootstrap resamples, cosine cycles, interpolation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from regutils import fit, load_digits, mlp, set_seed
from regutils.ensembles import (
    CosineCycles,
    barrier,
    bootstrap,
    ensemble_probs,
    interpolate,
    load_weights,
)


def test_ensemble_probs_is_the_mean_of_softmaxes_in_eval_mode():
    set_seed(0)
    a, b = mlp(4, (8,), 3, dropout=0.5), mlp(4, (8,), 3, dropout=0.5)
    a.train()
    x = torch.randn(6, 4)
    p = ensemble_probs([a, b], x)
    a.eval(), b.eval()
    with torch.no_grad():
        expected = (torch.softmax(a(x), 1) + torch.softmax(b(x), 1)) / 2
    torch.testing.assert_close(p, expected)
    a.train()
    ensemble_probs([a], x)
    assert a.training  # the mode is restored


def test_ensemble_loss_never_exceeds_the_members_mean_loss():
    # Jensen: -log is convex, so the loss of the mean probability is at most the mean loss
    set_seed(1)
    models = [nn.Linear(5, 4) for _ in range(5)]
    x, y = torch.randn(40, 5), torch.randint(0, 4, (40,))
    ens = -torch.log(ensemble_probs(models, x)[torch.arange(40), y]).mean()
    mean = np.mean([-torch.log(ensemble_probs([m], x)[torch.arange(40), y]).mean() for m in models])
    assert ens.item() <= mean + 1e-7


@pytest.mark.parametrize("bad", [[], nn.Linear(2, 2), [nn.Linear(2, 2), "model"], None])
def test_ensemble_probs_rejects_bad_models(bad):
    with pytest.raises(TypeError, match="models"):
        ensemble_probs(bad, torch.zeros(1, 2))


def test_bootstrap_resamples_the_training_set_only():
    data = load_digits()
    boot = bootstrap(data, seed=3)
    X, y = data.train
    assert boot.val is data.val and boot.test is data.test
    assert boot.train[0].shape == X.shape
    # every resampled image is a training image with its own label
    match = (boot.train[0][:, None] == X[None]).all(-1)
    assert match.any(1).all()
    assert torch.equal(y[match.float().argmax(1)], boot.train[1])
    distinct = len(torch.unique(boot.train[0], dim=0))
    assert 100 < distinct < 160  # about 63% of 200
    assert torch.equal(bootstrap(data, seed=3).train[0], boot.train[0])
    assert not torch.equal(bootstrap(data, seed=4).train[0], boot.train[0])


def test_bootstrap_checks_its_arguments():
    with pytest.raises(TypeError, match="data"):
        bootstrap((torch.zeros(2, 2), torch.zeros(2)), seed=0)
    with pytest.raises(ValueError, match="seed"):
        bootstrap(load_digits(), seed=-1)


def test_cosine_cycles_rate_and_snapshots():
    cycles = CosineCycles(cycle=2, lr=0.1, steps_per_epoch=3)
    assert cycles.rate(0) == pytest.approx(0.1)
    assert cycles.rate(3) == pytest.approx(0.05)  # half a cycle of 6 steps
    assert cycles.rate(6) == pytest.approx(0.1)  # the restart
    assert cycles.rate(5) == pytest.approx(0.05 * (math.cos(math.pi * 5 / 6) + 1))
    set_seed(0)
    data = load_digits(n_train=60)
    model = mlp(hidden=(8,))
    seen = []
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    original = opt.step

    def step(*args, **kwargs):
        seen.append(opt.param_groups[0]["lr"])
        return original(*args, **kwargs)

    opt.step = step
    fit(model, data.train, epochs=5, batch_size=20, optimizer=opt, callbacks=[cycles])
    assert seen == pytest.approx([cycles.rate(t) for t in range(15)])
    assert len(cycles.snapshots) == 2  # the ends of epochs 2 and 4
    last = load_weights(model, cycles.snapshots[-1])
    assert not torch.equal(last[0].weight, model[0].weight)  # epoch 5 moved on


def test_cosine_cycles_checks_its_arguments():
    with pytest.raises(ValueError, match="cycle"):
        CosineCycles(cycle=0, lr=0.1, steps_per_epoch=3)
    with pytest.raises(ValueError, match="lr"):
        CosineCycles(cycle=2, lr=0.0, steps_per_epoch=3)
    with pytest.raises(TypeError, match="steps_per_epoch"):
        CosineCycles(cycle=2, lr=0.1, steps_per_epoch=2.5)


def test_interpolate_ends_are_the_two_models():
    set_seed(0)
    a, b = mlp(4, (8,), 3), mlp(4, (8,), 3)
    x, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
    path = interpolate(a, b, (x, y), alphas=5)
    assert path["alpha"].tolist() == [0, 0.25, 0.5, 0.75, 1]
    with torch.no_grad():
        assert path["loss"][0] == pytest.approx(nn.functional.cross_entropy(a(x), y).item())
        assert path["loss"][-1] == pytest.approx(nn.functional.cross_entropy(b(x), y).item())
    assert set(path) == {"alpha", "loss", "acc"}


def test_interpolate_checks_its_arguments():
    x, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match="same names and shapes"):
        interpolate(nn.Linear(2, 2), nn.Linear(2, 3), (x, y))
    with pytest.raises(ValueError, match="alphas"):
        interpolate(nn.Linear(2, 2), nn.Linear(2, 2), (x, y), alphas=1)
    with pytest.raises(ValueError, match="alphas"):
        interpolate(nn.Linear(2, 2), nn.Linear(2, 2), (x, y), alphas=[[0.5]])


def test_barrier():
    assert barrier([0, 0.5, 1], [0.1, 0.9, 0.3]) == pytest.approx(0.7)
    assert barrier([0, 0.5, 1], [1.0, 0.5, 0.0]) == 0.0  # on the line
    assert barrier([0, 0.5, 1], [1.0, 0.2, 0.0]) == 0.0  # below: the ends bound it
    with pytest.raises(ValueError, match="alpha and loss"):
        barrier([0, 1], [0.1])
