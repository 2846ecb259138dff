r"""A training configuration that :func:`regutils.run_seeds` trains for all seeds at once.

A :class:`regutils.Recipe` is ``reference_run`` with its arguments frozen: a model
builder, the data and the :func:`regutils.fit` keywords. Called with a seed it trains one
model, so it is a valid ``run(seed)`` for :func:`regutils.run_seeds` and :func:`regutils.compare`.
Given several seeds (``recipe.train(seeds)``, or through ``run_seeds``), it trains them
**stacked**: the :math:`S` models become one, each weight matrix a stack
:math:`W \in \mathbb{R}^{S \times d_\text{in} \times d_\text{out}}` used in one batched
matrix product (``torch.baddbmm``), and one optimizer steps all of them. The objective
is the sum of the seeds' objectives,

.. math::

    J(W_1, \dots, W_S) = \sum_{s=1}^{S} \Big( \frac{1}{B} \sum_{i \in \text{batch}_s}
        \ell(f_{W_s}(x_i), y_i) + \Omega(W_s) \Big),

so the gradient with respect to :math:`W_s` is exactly seed :math:`s`'s own, and Adam,
AdamW and SGD act on each entry separately. Each seed keeps its own random stream (the
torch generator's state, and Python's and NumPy's when there is an ``augment``): its
initial weights, mini-batch order, dropout masks, input noise and augmentation draws are
those of its own run, drawn in the same order. The histories and weights therefore equal
those of one run after another up to floating-point rounding (the batched products add
in another order; measured: about 1e-8 after a few epochs), and the global random state
ends where the last seed's run leaves it.
Each seed may also train on its own draw of the data, ``recipe.train(seeds, splits=...)``
(one :class:`regutils.Split` per seed, training sets of one size): still one stacked model.

What can be stacked: an ``nn.Sequential`` of ``Flatten``, ``Linear``, ``ReLU``, ``Tanh``,
``GELU``, ``Dropout``, ``GaussianDropout``, ``GaussianNoise`` (what :func:`regutils.mlp` builds
without batch norm), with or without :class:`regutils.WeightNoise` on the linear layers'
weights (:func:`regutils.add_weight_noise`: each seed draws its weights' noise from its
own stream, as its own run does), a named optimizer, any ``loss``, an ``augment`` whose
batches keep one shape across the seeds, and any ``penalty``: it is called on each seed's
own model, whose parameters are then views of that seed's slice of the stacked weights
(same names, same shapes), drawing from the seed's torch stream (weight noise and a
penalty together train one seed after another: the penalty would read the noisy
weights); and a max-norm constraint on every weight, ``callbacks=[MaxNorm(None, c)]``
(:class:`regutils.MaxNorm` bound to no module), projected on every seed's weights after
each step. Anything else (other callbacks, such
as ``EarlyStopping``, batch norm, convolutions, an optimizer instance, a GPU, a progress
bar, one seed) trains one seed after another, with the same results; ``recipe.last_mode`` says
which way the last call went and why. A seed that diverges makes the run start over one
seed after another, so that :func:`regutils.fit`'s ``FloatingPointError`` is raised as
before.

Speed (``make bench``, section "Seeds stacked"): stacking saves the fixed cost of each
of the many small operations of a training step, not arithmetic, so it gains most on
small models and only a little on the reference MLP, whose 256-wide matrix products
already keep a core busy (1.28x for 5 seeds on one thread, 1.74x on two, measured on an
idle 2-core machine). A stacked run uses one CPU thread unless the recipe sets
``threads``: two threads were measured several times slower than one while other
programs ran, as for :func:`regutils.fit`.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import random
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

from regutils._checks import check_choice, check_float, check_int, check_module, check_seeds
from regutils.constraints import MaxNorm
from regutils.data import Split, load_digits
from regutils.history import History
from regutils.noise import GaussianDropout, GaussianNoise, WeightNoise
from regutils.reference import REFERENCE_FIT, reference_model
from regutils.seed import set_seed
from regutils.train import (
    LOSSES,
    OPTIMIZERS,
    _augmented,
    _make_optimizer,
    _resolve_loss,
    as_pair,
    check_track,
    cpu_threads,
    fit,
    resolve_device,
)

#: keywords of :func:`regutils.fit` a recipe may set (everything but the model and data)
FIT_KEYWORDS = tuple(
    name
    for name, p in inspect.signature(fit).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
)


#: torch CPU threads of a stacked run when the recipe does not set ``threads``
#: (measured in ``make bench``: see the module docstring)
STACKED_THREADS = 1

_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.GELU)
_RANDOM = (nn.Dropout, GaussianNoise, GaussianDropout)


class _Unstackable(Exception):
    """Raised inside a stacked run that must be redone one seed after another."""


class _Streams:
    """One random state per seed: torch's CPU generator, Python's and NumPy's."""

    def __init__(self) -> None:
        self.torch: list[torch.Tensor] = []
        self.others: list[tuple] = []

    def capture(self) -> None:
        """Keep the current state as the stream of the next seed."""
        self.torch.append(torch.get_rng_state())
        self.others.append((random.getstate(), np.random.get_state()))

    @contextlib.contextmanager
    def use(self, s: int, *, everything: bool = False) -> Iterator[None]:
        """Draw from seed ``s``'s torch stream inside the block; with ``everything``,
        from its Python and NumPy streams too (for ``augment``, which may use them)."""
        torch.set_rng_state(self.torch[s])
        if everything:
            random.setstate(self.others[s][0])
            np.random.set_state(self.others[s][1])
        try:
            yield
        finally:
            self.torch[s] = torch.get_rng_state()
            if everything:
                self.others[s] = (random.getstate(), np.random.get_state())

    def finish(self) -> None:
        """Leave the global generators where the last seed's sequential run leaves them."""
        torch.set_rng_state(self.torch[-1])
        random.setstate(self.others[-1][0])
        np.random.set_state(self.others[-1][1])


def _clean_weight(layer: nn.Linear) -> torch.Tensor:
    """A linear layer's weight parameter: the clean one under :class:`WeightNoise`."""
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight


def _weight_noise_sigma(layer: nn.Linear) -> float:
    """The σ of the :class:`WeightNoise` on a linear layer's weight, 0 without one."""
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight[0].sigma
    return 0.0


def _kind(layer: nn.Module) -> type:
    """The layer's class; for a parametrized layer, the class parametrize derived it from
    (it makes a new subclass for every layer it registers on)."""
    if parametrize.is_parametrized(layer):
        return type(layer).__bases__[0]
    return type(layer)


def _parametrized_reason(i: int, layer: nn.Module) -> str | None:
    """Why a parametrized layer cannot be stacked; ``None`` for one :class:`WeightNoise` on
    a linear layer's weight, which :class:`_StackedLinear` draws itself."""
    found = getattr(layer, "parametrizations", {})
    if (
        type(layer).__bases__ != (nn.Linear,)
        or set(found.keys()) != {"weight"}
        or len(found["weight"]) != 1
        or type(found["weight"][0]) is not WeightNoise
    ):
        name = type(layer).__name__
        return f"layer {i} is a {name} with a parametrization other than WeightNoise"
    return None


class _StackedLinear(nn.Module):
    """``S`` linear layers as one: ``x (S, B, in) -> x @ W_s^T + b_s``, a batched product.

    ``weight`` holds the transposed weights, ``(S, in, out)`` (the layout the batched
    product reads fastest, measured), and the bias is kept flat, ``(S * out,)``, so that
    it stays 1-D, like a bias. With weight noise (σ > 0), every forward pass in training
    mode adds σ times a fresh ``(out, in)`` normal draw to each seed's weight, from that
    seed's stream: the draw its own :class:`WeightNoise` would make.
    """

    def __init__(self, layers: list[nn.Linear], streams: _Streams) -> None:
        super().__init__()
        self.weight = nn.Parameter(self.stack([_clean_weight(m) for m in layers], "weight"))
        self.sigma = _weight_noise_sigma(layers[0])
        self.streams = streams
        self.out_features = layers[0].out_features
        if layers[0].bias is None:
            self.register_parameter("bias", None)
        else:
            self.bias = nn.Parameter(self.stack([m.bias for m in layers], "bias"))

    @staticmethod
    def stack(tensors: list[torch.Tensor], name: str) -> torch.Tensor:
        """The seeds' ``weight`` or ``bias`` tensors in this layer's layout."""
        if name == "weight":
            return torch.stack([t.detach() for t in tensors]).transpose(1, 2).contiguous()
        return torch.cat([t.detach() for t in tensors]).clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if self.sigma and self.training:
            S, d_in, d_out = weight.shape
            noise = []
            for s in range(S):
                with self.streams.use(s):  # WeightNoise's randn_like of the (out, in) weight
                    noise.append(torch.randn(d_out, d_in, dtype=weight.dtype))
            weight = weight + self.sigma * torch.stack(noise).transpose(1, 2)
        if self.bias is None:
            return torch.bmm(x, weight)
        return torch.baddbmm(self.bias.view(len(weight), 1, self.out_features), x, weight)

    @torch.no_grad()
    def unstack(self, layers: list[nn.Linear]) -> None:
        for s, m in enumerate(layers):
            _clean_weight(m).copy_(self.weight[s].T)
            if m.bias is not None:
                m.bias.copy_(self.bias.view(len(layers), -1)[s])


class _StackedFlatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2)


class _Seedwise(nn.Module):
    """A random layer (dropout, input noise) applied to each seed's slice, drawing from
    that seed's stream: the same draws as the seed's own model makes."""

    def __init__(self, layer: nn.Module, streams: _Streams) -> None:
        super().__init__()
        self.layer = layer
        self.streams = streams

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        self.layer.train()
        outs = []
        for s in range(len(x)):
            with self.streams.use(s):
                outs.append(self.layer(x[s]))
        return torch.stack(outs)


def _seed_forward(stacked: nn.Sequential, s: int, x: torch.Tensor) -> torch.Tensor:
    """Seed ``s``'s model in evaluation mode on ``x`` (random layers are off)."""
    for layer in stacked:
        if isinstance(layer, _StackedLinear):
            weight = layer.weight[s]
            if layer.bias is None:
                x = x @ weight
            else:
                x = torch.addmm(layer.bias.view(len(layer.weight), -1)[s], x, weight)
        elif isinstance(layer, _StackedFlatten):
            x = x.flatten(1)
        elif not isinstance(layer, _Seedwise):
            x = layer(x)
    return x


def _model_reason(models: list[nn.Module]) -> str | None:
    """Why these per-seed models cannot be stacked, or ``None`` when they can."""
    first = models[0]
    if type(first) is not nn.Sequential:
        return f"the model is a {type(first).__name__}, not an nn.Sequential"
    for i, layer in enumerate(first):
        kind = type(layer)
        if parametrize.is_parametrized(layer):
            reason = _parametrized_reason(i, layer)
            if reason is not None:
                return reason
            kind = nn.Linear
        if kind not in (nn.Linear, nn.Flatten, *_ELEMENTWISE, *_RANDOM):
            return f"layer {i} is a {kind.__name__}"
        if kind is nn.Flatten and (layer.start_dim, layer.end_dim) != (1, -1):
            return f"layer {i} flattens dimensions {layer.start_dim}..{layer.end_dim}"
        if getattr(layer, "inplace", False):
            return f"layer {i} works in place"
    for m in models:
        if type(m) is not nn.Sequential or len(m) != len(first):
            return "make_model() built different architectures for different seeds"
        for a, b in zip(first, m):
            if _kind(a) is not _kind(b) or repr(a) != repr(b):
                return "make_model() built different layers for different seeds"
            if b._forward_hooks or b._forward_pre_hooks or b._backward_hooks:
                return "a layer has hooks"
            if isinstance(a, nn.Linear) and (a.bias is None) != (b.bias is None):
                return "make_model() built different layers for different seeds"
        params = list(m.parameters())
        if any(not p.requires_grad or p.device.type != "cpu" for p in params):
            return "a parameter is frozen or not on the CPU"
        if len({p.dtype for p in params}) > 1:
            return "parameters of different dtypes"
        if m._forward_hooks or m._forward_pre_hooks:
            return "the model has hooks"
    return None


def _stackable_constraint(callback: object) -> bool:
    """Whether ``callback`` is a max-norm constraint the stacked loop can apply itself:
    a :class:`regutils.MaxNorm` on the whole model (``module=None``)."""
    return isinstance(callback, MaxNorm) and callback.module is None


@torch.no_grad()
def _project_stacked(stacked: nn.Sequential, radii: list[float]) -> None:
    """:func:`regutils.max_norm_` on every seed's every weight: unit ``j`` of seed ``s``
    is column ``j`` of ``weight[s]``, ``(in, out)``, so the norms run over dimension 1."""
    for layer in stacked:
        if isinstance(layer, _StackedLinear):
            for c in radii:
                norms = layer.weight.norm(dim=1, keepdim=True)  # (S, 1, out)
                tiny = torch.finfo(layer.weight.dtype).tiny
                layer.weight.mul_((c / norms.clamp_min(tiny)).clamp(max=1.0))


def _fit_reason(kw: dict) -> str | None:
    """Why these fit keywords need one run per seed, or ``None`` when stacking can do them.

    Invalid values also return a reason: the sequential :func:`regutils.fit` then raises
    its own error message.
    """
    try:
        if kw.get("progress", False):
            return "progress bars follow one run"
        check_track(kw.get("track"))
        if any(not _stackable_constraint(cb) for cb in kw.get("callbacks", ())):
            return "callbacks (e.g. EarlyStopping) act on one model"
        optimizer = kw.get("optimizer", "adam")
        if not isinstance(optimizer, str):
            return "the optimizer is an instance, built on one model"
        check_choice("optimizer", optimizer, OPTIMIZERS)
        if kw.get("lr") is not None:
            check_float("lr", kw["lr"], minimum=0.0, strict_min=True)
        check_int("epochs", kw["epochs"], minimum=1)
        if kw.get("batch_size") is not None:
            check_int("batch_size", kw["batch_size"], minimum=1)
        check_float("weight_decay", kw.get("weight_decay", 0.0), minimum=0.0)
        if not isinstance(kw.get("decay_bias", True), bool):
            return "invalid decay_bias"
        momentum = check_float("momentum", kw.get("momentum", 0.0), minimum=0.0, maximum=1.0)
        if momentum >= 1.0 or (momentum and optimizer != "sgd"):
            return "invalid momentum"
        for name in ("penalty", "augment"):
            if kw.get(name) is not None and not callable(kw[name]):
                return f"invalid {name}"
        loss = kw.get("loss", "auto")
        if not callable(loss):
            check_choice("loss", loss, LOSSES)
        if not isinstance(kw.get("shuffle", True), bool):
            return "invalid shuffle"
        if resolve_device(kw.get("device", "cpu")).type != "cpu":
            return "stacking runs on the CPU only"
        if kw.get("threads", 1) is not None:
            check_int("threads", kw.get("threads", 1), minimum=1)
    except (TypeError, ValueError) as err:
        return f"invalid fit arguments ({err})"
    return None


def _splits_reason(datas: list[Split]) -> str | None:
    """Why these per-seed splits need one run per seed, or ``None`` when they stack."""
    if all(d is datas[0] for d in datas):
        return None
    try:
        trains = [as_pair("train", d.train) for d in datas]
    except TypeError as err:
        return f"invalid splits ({err})"
    shapes = {(tuple(X.shape), tuple(y.shape), X.dtype, y.dtype) for X, y in trains}
    if len(shapes) > 1:
        return "the splits' training sets differ in size or shape"
    if len({d.val is None for d in datas}) > 1:
        return "some splits have a validation set and some do not"
    return None


@contextlib.contextmanager
def _seed_models(stacked: nn.Sequential, models: list[nn.Module]) -> Iterator[list[nn.Module]]:
    """The seeds' own models, their parameters replaced by views of the stacked ones.

    A penalty called on ``models[s]`` inside the block sees seed ``s``'s weights with
    their usual names and shapes, and its gradient flows into the stacked weights.
    """
    saved = []
    try:
        for i, layer in enumerate(stacked):
            if not isinstance(layer, _StackedLinear):
                continue
            weights = layer.weight.unbind(0)
            biases = None if layer.bias is None else layer.bias.view(len(models), -1).unbind(0)
            for s, model in enumerate(models):
                params = model[i]._parameters
                saved.append((params, dict(params)))
                params["weight"] = weights[s].T
                if biases is not None:
                    params["bias"] = biases[s]
        yield models
    finally:
        for params, original in saved:
            params.update(original)


class Recipe:
    """One training configuration: ``recipe(seed)`` trains a fresh model and returns its history.

    ``Recipe(make_model, data, **fit_overrides)(seed)`` does what
    ``reference_run(seed, ...)`` does: ``set_seed(seed)``, ``model = make_model()``,
    then :func:`regutils.fit` on ``data.train`` with ``data.val`` for validation and
    the keywords of ``REFERENCE_FIT`` updated with ``fit_overrides``.

    Args:
        make_model (callable, optional): ``make_model() -> nn.Module``, building a
            fresh model from the current random state. Default: ``reference_model``.
        data (Split, optional): the data. Default: ``load_digits()``.
        **fit_overrides: any keyword of :func:`regutils.fit`, replacing the one in
            ``REFERENCE_FIT`` (e.g. ``penalty=...``, ``epochs=200``).

    Attributes:
        fit_kwargs (dict): the keywords passed to :func:`regutils.fit`.
        last_mode (str or None): how the last :meth:`train` went: ``"stacked"``, or
            ``"sequential: "`` followed by the reason (e.g. ``"stack=False"``,
            ``"callbacks (e.g. EarlyStopping) act on one model"``).

    With several seeds, :func:`regutils.run_seeds`, :func:`regutils.compare` and
    :meth:`train` train them as one stacked model where they can: same results per
    seed, up to floating-point rounding, in less time (see the module docstring above
    for what can be stacked). ``run_seeds(recipe, seeds, stack=False)`` trains one seed
    after another.

    Raises:
        TypeError: if ``make_model`` is not callable, ``data`` is not a Split, a
            keyword is not one of :func:`regutils.fit`, or a :class:`regutils.MaxNorm`
            in ``callbacks`` is bound to a module (use ``MaxNorm(None, c)``).

    Example::

        >>> from regutils import mlp
        >>> recipe = Recipe(lambda: mlp(hidden=(16,)), epochs=2, lr=1e-2)
        >>> len(recipe(0))
        2
    """

    def __init__(
        self,
        make_model: Callable[[], nn.Module] | None = None,
        data: Split | None = None,
        **fit_overrides,
    ) -> None:
        if make_model is not None and not callable(make_model):
            raise TypeError(
                f"make_model must be a callable make_model() -> nn.Module, but got {make_model!r}"
            )
        if data is not None and not isinstance(data, Split):
            raise TypeError(
                f"data must be a Split (see load_digits), but got {type(data).__name__}"
            )
        unknown = sorted(set(fit_overrides) - set(FIT_KEYWORDS))
        if unknown:
            raise TypeError(
                f"Recipe got unknown fit keywords {unknown}; allowed: {', '.join(FIT_KEYWORDS)}"
            )
        callbacks = fit_overrides.get("callbacks", ())
        if isinstance(callbacks, (list, tuple)) and any(
            isinstance(cb, MaxNorm) and cb.module is not None for cb in callbacks
        ):
            raise TypeError(
                "a Recipe builds a new model for every seed, but got a MaxNorm bound to one "
                "module: give MaxNorm(None, c), which binds to each model that fit trains"
            )
        self.make_model = reference_model if make_model is None else make_model
        self.data = data
        self.fit_kwargs = {**REFERENCE_FIT, **fit_overrides}
        self.last_mode: str | None = None

    def _data(self) -> Split:
        return load_digits() if self.data is None else self.data

    def _build(self, seed: int) -> nn.Module:
        set_seed(seed)
        return check_module("make_model()", self.make_model())

    def train(
        self,
        seeds: Iterable[int],
        *,
        stack: bool = True,
        splits: Iterable[Split] | None = None,
    ) -> list[tuple[nn.Module, History]]:
        """Train one model per seed; return each trained model with its history.

        With ``stack=True`` and more than one seed, the seeds are trained together as
        one stacked model when the recipe allows it (see the module docstring), else
        one after another. Either way each seed's model and history are those of
        ``recipe(seed)``, up to floating-point rounding. ``last_mode`` then
        says which way was taken, and why.

        With ``splits``, seed ``seeds[i]`` trains on ``splits[i]`` instead of the
        recipe's data (and is validated on its validation set): each seed its own
        draw of the data, e.g. ``load_digits(seed=k)``, still stacked when the
        training sets have one size and shape (else one after another).

        Args:
            seeds (iterable of int): non-negative seeds.
            stack (bool): allow stacking. Default: ``True``.
            splits (iterable of Split, optional): one split per seed. Default: the
                recipe's data for every seed.

        Returns:
            list of (nn.Module, History): one pair per seed, in order; each model
            holds the weights its run ended with.

        Raises:
            TypeError, ValueError: for bad seeds, a ``make_model`` that does not
                return a module, bad ``fit`` arguments (as :func:`regutils.fit`), or
                ``splits`` that are not one Split per seed.
            FloatingPointError: when a seed's training diverges, as in
                :func:`regutils.fit` (the first such seed in order).

        Example::

            >>> from regutils import mlp
            >>> recipe = Recipe(lambda: mlp(hidden=(16,), dropout=0.2), epochs=2)
            >>> [len(h) for _, h in recipe.train([0, 1])], recipe.last_mode
            ([2, 2], 'stacked')
        """
        seeds = check_seeds(seeds)
        if not isinstance(stack, bool):
            raise TypeError(f"stack must be a bool, but got {type(stack).__name__}")
        datas = self._splits(splits, len(seeds))
        reason = "stack=False" if not stack else None
        if reason is None and len(seeds) == 1:
            reason = "one seed"
        reason = reason or _fit_reason(self.fit_kwargs) or _splits_reason(datas)
        if reason is None:
            try:
                results = self._train_stacked(seeds, datas)
                self.last_mode = "stacked"
                return results
            except _Unstackable as err:
                reason = str(err)
        self.last_mode = f"sequential: {reason}"
        results = []
        for seed, data in zip(seeds, datas):
            model = self._build(seed)
            results.append((model, fit(model, data.train, data.val, **self.fit_kwargs)))
        return results

    def _splits(self, splits: Iterable[Split] | None, n: int) -> list[Split]:
        """One split per seed: ``splits`` checked, or the recipe's data ``n`` times."""
        if splits is None:
            return [self._data()] * n
        if isinstance(splits, Split) or not isinstance(splits, Iterable):
            raise TypeError(
                f"splits must be a list of Splits, one per seed, but got {type(splits).__name__}"
            )
        splits = list(splits)
        for i, split in enumerate(splits):
            if not isinstance(split, Split):
                raise TypeError(
                    f"splits[{i}] must be a Split (see load_digits), but got {type(split).__name__}"
                )
        if len(splits) != n:
            raise ValueError(f"splits must hold one Split per seed ({n}), but got {len(splits)}")
        return splits

    def _train_stacked(
        self, seeds: list[int], datas: list[Split]
    ) -> list[tuple[nn.Module, History]]:
        """All seeds as one stacked model; raises ``_Unstackable`` to fall back."""
        kw = self.fit_kwargs
        streams = _Streams()
        models = []
        for seed in seeds:
            models.append(self._build(seed))
            streams.capture()  # what fit would start from, after building the model
        reason = _model_reason(models)
        if reason is None and kw.get("penalty") is not None:
            if any(parametrize.is_parametrized(layer) for layer in models[0]):
                reason = "a penalty would read the noisy weights of weight noise"
        if reason is not None:
            raise _Unstackable(reason)
        trains = [as_pair("train", d.train) for d in datas]
        vals = [None if d.val is None else as_pair("val", d.val) for d in datas]
        shared = all(d is datas[0] for d in datas)
        if shared:  # one data set: index it directly
            X, y = trains[0]
        else:  # (S, n, ...): seed s's own training set at X[s]
            X = torch.stack([pair[0] for pair in trains])
            y = torch.stack([pair[1] for pair in trains])
        loss_fn, classification = _resolve_loss(kw.get("loss", "auto"), trains[0][1])
        layers: list[nn.Module] = []
        for i, layer in enumerate(models[0]):
            if isinstance(layer, nn.Linear):
                layers.append(_StackedLinear([m[i] for m in models], streams))
            elif isinstance(layer, nn.Flatten):
                layers.append(_StackedFlatten())
            elif isinstance(layer, _RANDOM):
                layers.append(_Seedwise(layer, streams))
            else:
                layers.append(layer)
        stacked = nn.Sequential(*layers)
        threads = kw.get("threads", STACKED_THREADS)
        with cpu_threads(threads):
            histories = self._loop(
                stacked, models, streams, (X, y, shared), trains, vals, loss_fn, classification
            )
        for i, layer in enumerate(stacked):
            if isinstance(layer, _StackedLinear):
                layer.unstack([m[i] for m in models])
        streams.finish()
        return list(zip(models, histories))

    def _loop(
        self, stacked, models, streams, data, trains, vals, loss_fn, classification
    ) -> list[History]:
        kw = self.fit_kwargs
        X, y, shared = data
        S = len(streams.torch)
        n = len(trains[0][0])
        seed_rows = torch.arange(S)[:, None]
        step = n if kw.get("batch_size") is None else kw["batch_size"]
        augment, penalty = kw.get("augment"), kw.get("penalty")
        opt = _make_optimizer(  # fit's own optimizer, built on the stacked weights
            kw.get("optimizer", "adam"),
            stacked,
            kw.get("lr"),
            kw.get("weight_decay", 0.0),
            kw.get("momentum", 0.0),
            kw.get("decay_bias", True),  # stacked biases stay 1-D, weights 3-D: same groups
        )
        fast_loss = loss_fn is F.cross_entropy and not torch.is_floating_point(y)
        tracked = check_track(kw.get("track"))  # more sets measured after every epoch
        radii = [cb.max_norm for cb in kw.get("callbacks", ())]  # MaxNorm(None, c) only
        _project_stacked(stacked, radii)  # as MaxNorm.on_fit_start
        histories = [History() for _ in range(S)]
        for epoch in range(1, kw["epochs"] + 1):
            stacked.train()
            orders = []
            for s in range(S):
                with streams.use(s):
                    orders.append(torch.randperm(n) if kw.get("shuffle", True) else torch.arange(n))
            orders = torch.stack(orders)
            for start in range(0, n, step):
                idx = orders[:, start : start + step]
                rows = idx if shared else (seed_rows, idx)
                if augment is None:
                    xb, yb = X[rows], y[rows]
                else:
                    pairs = []
                    for s in range(S):
                        Xs, ys = trains[s]
                        with streams.use(s, everything=True):
                            pairs.append(_augmented(augment, Xs[idx[s]], ys[idx[s]]))
                    if len({(p[0].shape, p[1].shape, p[1].dtype) for p in pairs}) > 1:
                        raise _Unstackable("augment returned batches of different shapes")
                    xb = torch.stack([p[0] for p in pairs])
                    yb = torch.stack([p[1] for p in pairs])
                out = stacked(xb)
                if fast_loss and yb.ndim == 2 and not torch.is_floating_point(yb):
                    losses = F.cross_entropy(out.flatten(0, 1), yb.flatten(), reduction="none")
                    objective = losses.view(S, -1).mean(dim=1).sum()
                else:
                    objective = sum(loss_fn(out[s], yb[s]) for s in range(S))
                if penalty is not None:
                    with _seed_models(stacked, models) as own:
                        for s in range(S):
                            with streams.use(s):
                                objective = objective + penalty(own[s])
                opt.zero_grad(set_to_none=True)
                objective.backward()
                opt.step()
                _project_stacked(stacked, radii)  # as MaxNorm.on_batch_end
            records = [{"epoch": epoch} for _ in range(S)]
            stacked.eval()
            with torch.no_grad():
                for split, per_seed in (
                    ("train", trains),
                    ("val", vals),
                    *((name, [pair] * S) for name, pair in tracked.items()),
                ):
                    for s in range(S):  # one seed at a time: as fast, and kinder to caches
                        if per_seed[s] is None:
                            continue
                        Xs, ys = per_seed[s]
                        out = _seed_forward(stacked, s, Xs)
                        records[s][f"{split}_loss"] = loss_fn(out, ys).item()
                        if classification:
                            hits = (out.argmax(dim=1) == ys).float().mean().item()
                            records[s][f"{split}_acc"] = hits
            stacked.train()
            if not all(math.isfinite(r["train_loss"]) for r in records):
                raise _Unstackable("a seed diverged: rerun one by one to raise fit's error")
            for h, r in zip(histories, records):
                h.append(r)
        return histories

    def __call__(self, seed: int) -> History:
        return self.train([seed], stack=False)[0][1]

    def __repr__(self) -> str:
        name = getattr(self.make_model, "__name__", repr(self.make_model))
        kwargs = ", ".join(f"{k}={v!r}" for k, v in self.fit_kwargs.items())
        return f"Recipe({name}, {kwargs})"


__all__ = ["Recipe"]
