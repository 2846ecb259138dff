import pytest
import torch
from torch import nn

from regutils import Callback, MaxNorm, fit, max_norm_, set_seed, unit_norms


def test_max_norm_matches_torch_renorm():
    set_seed(0)
    for shape in [(7, 5), (4, 3, 2, 2)]:
        w = torch.randn(shape) * 2
        expected = torch.renorm(w, p=2, dim=0, maxnorm=1.5)
        assert torch.allclose(max_norm_(w.clone(), 1.5), expected, atol=1e-6)


def test_max_norm_rescales_long_rows_and_leaves_short_ones():
    w = torch.tensor([[6.0, 8.0], [0.6, 0.8], [0.0, 0.0]])
    out = max_norm_(w, 2.0)
    assert out is w  # in place
    assert torch.allclose(w, torch.tensor([[1.2, 1.6], [0.6, 0.8], [0.0, 0.0]]))


def test_projection_is_the_nearest_point_of_the_ball():
    # No point of the ball is closer to v than its projection: compare with random points.
    set_seed(1)
    v = torch.randn(1, 6) * 3
    p = max_norm_(v.clone(), 1.0)
    candidates = torch.randn(2000, 6)
    candidates = candidates / candidates.norm(dim=1, keepdim=True) * torch.rand(2000, 1)
    assert (candidates - v).norm(dim=1).min() >= (p - v).norm() - 1e-6


@pytest.mark.parametrize(
    "weight, max_norm, error, match",
    [
        (torch.ones(3), 1.0, ValueError, "at least 2 dimensions"),
        ([[1.0]], 1.0, TypeError, "weight must be a torch.Tensor"),
        (torch.ones(2, 2), 0.0, ValueError, "max_norm must be in"),
        (torch.ones(2, 2), "1", TypeError, "max_norm must be a real number"),
        (torch.ones(2, 2, dtype=torch.int64), 1.0, TypeError, "floating-point.*torch.int64"),
    ],
)
def test_max_norm_rejects_bad_arguments(weight, max_norm, error, match):
    with pytest.raises(error, match=match):
        max_norm_(weight, max_norm)


def test_callback_keeps_every_unit_inside_the_ball_and_leaves_biases_free():
    set_seed(0)
    X, y = torch.randn(64, 5) * 5, torch.randint(0, 3, (64,))
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    seen = []

    class Watch(Callback):
        def on_batch_end(self, state):
            seen.append(unit_norms(state.model).max().item())

    fit(model, (X, y), epochs=5, lr=0.1, batch_size=16, callbacks=[MaxNorm(model, 0.3), Watch()])
    assert len(seen) == 20 and max(seen) <= 0.3 + 1e-6
    assert unit_norms(model).max() == pytest.approx(0.3, abs=1e-5)  # the optimizer pushes out
    assert model[0].bias.abs().max() > 0.3  # biases are not constrained


def test_callback_projects_at_fit_start_and_only_its_module():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    with torch.no_grad():
        model[0].weight.fill_(2.0)  # row norm 4
        model[1].weight.fill_(2.0)  # row norm 4
    fit(
        model,
        (torch.zeros(2, 4), torch.tensor([0, 1])),
        epochs=1,
        lr=1e-9,
        callbacks=[MaxNorm(model[0], 1.0)],
    )
    assert unit_norms(model[0]).max() == pytest.approx(1.0, abs=1e-5)
    assert unit_norms(model[1]).min() == pytest.approx(4.0, abs=1e-3)


def test_callback_rejects_bad_arguments():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        MaxNorm(torch.ones(2, 2), 1.0)
    with pytest.raises(ValueError, match="max_norm must be in"):
        MaxNorm(nn.Linear(2, 2), -1.0)
    with pytest.raises(ValueError, match="at least one weight"):
        MaxNorm(nn.BatchNorm1d(3), 1.0)


def test_transposed_convolutions_are_rejected_and_the_documented_workaround_works():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ConvTranspose2d(3, 5, 2))
    for make in (lambda: MaxNorm(model, 1.0), lambda: unit_norms(model)):
        with pytest.raises(ValueError, match="transposed convolution.*1 is ConvTranspose2d"):
            make()
    layer = model[1]  # weight (in=3, out=5, 2, 2): output unit j is weight[:, j]
    with torch.no_grad():
        layer.weight.mul_(10)
    max_norm_(layer.weight.data.transpose(0, 1), 1.0)
    per_output = layer.weight.detach().transpose(0, 1).flatten(1).norm(dim=1)
    assert per_output.shape == (5,)
    assert per_output.max() == pytest.approx(1.0, abs=1e-5)


def test_unit_norms_rejects_modules_without_weights():
    with pytest.raises(ValueError, match="module must hold at least one weight.*ReLU"):
        unit_norms(nn.ReLU())
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        unit_norms(torch.ones(2, 2))


def test_unit_norms_concatenates_every_layer():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    norms = unit_norms(model)
    assert norms.shape == (6,)
    assert torch.allclose(norms[:4], model[0].weight.norm(dim=1))


def test_max_norm_bound_to_no_module_constrains_each_model_fit_trains():
    constraint = MaxNorm(None, 0.3)
    X, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
    for seed in (0, 1):  # one instance, two models
        set_seed(seed)
        model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
        fit(model, (X, y), epochs=3, lr=0.5, batch_size=8, callbacks=[constraint])
        assert unit_norms(model).max() <= 0.3 + 1e-6
    with pytest.raises(TypeError, match="module"):
        MaxNorm("model", 0.3)
