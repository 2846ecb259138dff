import copy

import pytest
import torch
from torch import nn

from regutils import (
    ProximalL1,
    fit,
    l1_penalty,
    l2_penalty,
    penalized_parameters,
    set_seed,
    soft_threshold,
    soft_tying_penalty,
    sparsity,
    weight_norm,
)


@pytest.fixture
def net():
    set_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_penalties_match_hand_computation(net):
    w1, w2 = net[0].weight, net[3].weight
    lam = 0.3
    assert torch.isclose(l1_penalty(net, lam), lam * (w1.abs().sum() + w2.abs().sum()))
    assert torch.isclose(l2_penalty(net, lam), lam / 2 * (w1.pow(2).sum() + w2.pow(2).sum()))


def test_biases_and_norm_layers_excluded_by_default(net):
    names = {n for n, p in net.named_parameters() if any(p is q for q in penalized_parameters(net))}
    assert names == {"0.weight", "3.weight"}
    everything = penalized_parameters(net, include_bias=True)
    assert len(everything) == len(list(net.parameters()))
    total = sum(p.abs().sum() for p in net.parameters())
    assert torch.isclose(l1_penalty(net, 1.0, include_bias=True), total)


def test_gradients_are_lam_sign_w_and_lam_w(net):
    lam = 0.7
    l1_penalty(net, lam).backward()
    assert torch.allclose(net[0].weight.grad, lam * net[0].weight.sign())
    assert net[0].bias.grad is None  # the bias took no part
    net.zero_grad()
    l2_penalty(net, lam).backward()
    assert torch.allclose(net[3].weight.grad, lam * net[3].weight)


def test_l2_penalty_with_sgd_equals_sgd_weight_decay():
    set_seed(0)
    X, y = torch.randn(64, 5), torch.randint(0, 3, (64,))
    model_a = nn.Linear(5, 3)
    model_b = copy.deepcopy(model_a)
    lam, lr = 0.1, 0.2
    # weight_decay in SGD decays the bias too, so include it in the penalty
    fit(model_a, (X, y), epochs=20, optimizer="sgd", lr=lr, weight_decay=lam, shuffle=False)
    fit(
        model_b, (X, y), epochs=20, optimizer="sgd", lr=lr, shuffle=False,
        penalty=lambda m: l2_penalty(m, lam, include_bias=True),
    )  # fmt: skip
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(model_a.weight, nn.Linear(5, 3).weight)


def test_a_model_without_weights_gives_zero():
    assert l2_penalty(nn.ReLU(), 1.0).item() == 0.0


@pytest.mark.parametrize("penalty", [l1_penalty, l2_penalty])
def test_bad_arguments(net, penalty):
    with pytest.raises(ValueError, match="lam must be in \\[0, inf\\], but got -1"):
        penalty(net, -1)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        penalty([torch.ones(2)], 1.0)
    with pytest.raises(TypeError, match="include_bias"):
        penalty(net, 1.0, include_bias="no")


def test_soft_threshold_is_the_l1_proximal_operator():
    w = torch.linspace(-3, 3, 61, dtype=torch.float64)
    t = 0.7
    out = soft_threshold(w, t)
    # brute force: argmin_v 0.5 (v - w)^2 + t |v| over a fine grid of v
    v = torch.linspace(-4, 4, 80_001, dtype=torch.float64)
    objective = 0.5 * (v[None, :] - w[:, None]) ** 2 + t * v.abs()[None, :]
    assert torch.allclose(out, v[objective.argmin(dim=1)], atol=1e-4)
    assert torch.all(out[w.abs() <= t] == 0)
    with pytest.raises(ValueError, match="t must be in \\[0, inf\\]"):
        soft_threshold(w, -1.0)
    with pytest.raises(TypeError, match="w must be a torch.Tensor"):
        soft_threshold([1.0], 0.1)


def test_proximal_l1_gives_exact_zeros_where_the_subgradient_does_not():
    set_seed(0)
    X = torch.randn(200, 20)
    y = X[:, :3] @ torch.tensor([2.0, -1.0, 1.5])
    models = [nn.Linear(20, 1) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    lam = 0.1
    fit(models[0], (X, y), epochs=300, lr=0.05, optimizer="sgd",
        penalty=lambda m: l1_penalty(m, lam))  # fmt: skip
    fit(
        models[1],
        (X, y),
        epochs=300,
        lr=0.05,
        optimizer="sgd",
        callbacks=[ProximalL1(models[1], lam)],
    )
    assert sparsity(models[0]) == 0.0  # subgradient steps hover around zero, never on it
    assert sparsity(models[1]) == 17 / 20  # the 17 useless inputs are exactly zero
    # both minimize the same objective: the informative weights agree closely
    assert torch.allclose(models[0].weight[0, :3], models[1].weight[0, :3], atol=0.02)


def test_proximal_l1_skips_biases_and_other_layers():
    set_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    X, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    fit(net, (X, y), epochs=5, lr=0.1, optimizer="sgd", callbacks=[ProximalL1(net[0], lam=100.0)])
    assert sparsity(net[0]) == 1.0 and sparsity(net[2]) == 0.0
    assert torch.count_nonzero(net[0].bias) > 0
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        ProximalL1(net[0].weight, lam=1.0)


def test_proximal_l1_rejects_a_module_without_weights():
    # e.g. model[0] of a network that starts with a noise or dropout layer
    for module in (nn.Dropout(0.2), nn.ReLU(), nn.Sequential(nn.Dropout(0.1))):
        with pytest.raises(ValueError, match="module must hold at least one weight with 2 or"):
            ProximalL1(module, lam=1.0)
    with pytest.raises(ValueError, match="lam"):
        ProximalL1(nn.Linear(2, 2), lam=-1.0)
    assert ProximalL1(nn.Sequential(nn.Dropout(0.1), nn.Linear(2, 2)), lam=1.0).lam == 1.0


def test_weight_norm_and_sparsity_measure_the_penalized_weights(net):
    expected = torch.sqrt(net[0].weight.pow(2).sum() + net[3].weight.pow(2).sum())
    assert weight_norm(net) == pytest.approx(expected.item())
    with torch.no_grad():
        net[0].weight.zero_()
    assert sparsity(net) == 12 / (12 + 8)


def test_soft_tying_penalty_matches_hand_computation_and_pulls_towards_the_anchor(net):
    set_seed(1)
    anchor = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    lam = 0.4
    expected = (
        lam
        / 2
        * sum(
            (p - q).pow(2).sum()
            for p, q in [(net[0].weight, anchor[0].weight), (net[3].weight, anchor[3].weight)]
        )
    )
    value = soft_tying_penalty(net, anchor, lam)
    assert torch.isclose(value, expected)
    value.backward()
    assert torch.allclose(net[0].weight.grad, lam * (net[0].weight - anchor[0].weight))
    assert anchor[0].weight.grad is None  # the anchor is held fixed
    assert net[0].bias.grad is None


def test_soft_tying_towards_zero_is_l2_and_towards_itself_is_zero(net):
    zeros = {name: torch.zeros_like(p) for name, p in net.named_parameters()}
    assert torch.isclose(soft_tying_penalty(net, zeros, 0.3), l2_penalty(net, 0.3))
    assert soft_tying_penalty(net, net, 0.3).item() == 0.0
    with_bias = soft_tying_penalty(net, zeros, 0.3, include_bias=True)
    assert torch.isclose(with_bias, l2_penalty(net, 0.3, include_bias=True))


def test_soft_tying_rejects_mismatched_anchors_and_bad_arguments(net):
    with pytest.raises(ValueError, match="shape \\(2, 4\\) named '3.weight'"):
        soft_tying_penalty(net, nn.Sequential(nn.Linear(3, 4)), 0.1)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 5))
    with pytest.raises(ValueError, match="but has shape \\(5, 4\\)"):
        soft_tying_penalty(net, other, 0.1)
    assert soft_tying_penalty(net[:-1], other[:-1], 0.1) > 0  # tie the shared layers only
    with pytest.raises(TypeError, match="anchor must be an nn.Module or a mapping"):
        soft_tying_penalty(net, [1.0], 0.1)
    with pytest.raises(ValueError, match="lam must be in"):
        soft_tying_penalty(net, net, -1.0)


def test_soft_tying_names_a_non_tensor_anchor_entry(net):
    anchor = {name: p.detach().tolist() for name, p in net.named_parameters()}
    with pytest.raises(TypeError, match="anchor\\['0.weight'\\] must be a torch.Tensor.*list"):
        soft_tying_penalty(net, anchor, 0.1)


def test_soft_tying_converts_the_anchor_to_the_parameters_dtype(net):
    net = net.double()
    anchor = {name: torch.zeros_like(p, dtype=torch.float32) for name, p in net.named_parameters()}
    value = soft_tying_penalty(net, anchor, 0.3)
    assert value.dtype == torch.float64
    assert torch.isclose(value, l2_penalty(net, 0.3))
