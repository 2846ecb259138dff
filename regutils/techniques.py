"""Every technique of the book at its chosen setting, and how two chapters score them.

The two chapters that put the techniques side by side ("Choosing regularizers" and
"Combining regularizers") train the same configurations on the same seeds and score them
the same way. :func:`technique_recipes` builds each configuration as a
:class:`regutils.Recipe` from :data:`regutils.settings.BEST`; :func:`measure` trains a recipe on
several seeds and scores every network on the validation set; :func:`paired_gain` compares
two configurations' right and wrong answers, counting the seeds and the images.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import nn
from torch.nn import functional as F

from regutils._checks import check_seeds
from regutils.augment import augmenter
from regutils.callbacks import EarlyStopping, ForEachModel
from regutils.constraints import MaxNorm
from regutils.data import Split, load_digits
from regutils.noise import add_weight_noise
from regutils.penalties import ProximalL1, l2_penalty
from regutils.recipe import Recipe
from regutils.reference import reference_model
from regutils.settings import best
from regutils.stats import paired_image_interval, paired_interval
from regutils.train import evaluate

#: label smoothing's ε, fixed in advance in the Noise injection chapter (not chosen)
LABEL_SMOOTHING = 0.1


def first_layer_l1(model: nn.Module) -> ProximalL1:
    """``ProximalL1`` at the chosen λ on the model's first linear layer, wherever it sits."""
    first = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
    if first is None:
        raise ValueError(f"model must hold an nn.Linear layer, but got {type(model).__name__}")
    return ProximalL1(first, **best("l1"))


def technique_recipes() -> dict[str, Recipe]:
    """Each technique of the table of "Choosing regularizers", at its chosen setting.

    The settings come from :data:`regutils.settings.BEST`.

    The reference run (``Recipe()``) with one technique added: L1 on the first layer
    (rebuilt for each model by :class:`regutils.ForEachModel`), an L2 penalty, early
    stopping, a max-norm bound on every weight (``MaxNorm(None, c)``), input noise,
    weight noise, label smoothing (ε = ``LABEL_SMOOTHING``), dropout, batch norm (no
    setting to choose) and half-pixel shifts. Weight sharing is not in it: a CNN is
    another network, not an addition to this one.

    Returns:
        dict: name -> :class:`regutils.Recipe`, the baseline first, in the table's order.

    Example::

        >>> recipes = technique_recipes()
        >>> list(recipes)[:3]
        ['baseline', 'L1 (first layer)', 'L2']
    """
    p_drop, sigma_in = best("dropout")["p"], best("input_noise")["sigma"]
    return {
        "baseline": Recipe(),
        "L1 (first layer)": Recipe(callbacks=[ForEachModel(first_layer_l1)]),
        "L2": Recipe(penalty=partial(l2_penalty, **best("l2"))),
        "early stopping": Recipe(callbacks=[EarlyStopping(**best("early_stopping"))]),
        "max-norm": Recipe(callbacks=[MaxNorm(None, **best("max_norm"))]),
        "input noise": Recipe(partial(reference_model, input_noise=sigma_in)),
        "weight noise": Recipe(lambda: add_weight_noise(reference_model(), **best("weight_noise"))),
        "label smoothing": Recipe(loss=partial(F.cross_entropy, label_smoothing=LABEL_SMOOTHING)),
        "dropout": Recipe(partial(reference_model, dropout=p_drop)),
        "batch norm": Recipe(partial(reference_model, batch_norm=True)),
        "augmentation": Recipe(augment=augmenter(**best("augmentation"))),
    }


def no_curves(data: Split) -> Split:
    """The same split without a validation set: :func:`regutils.fit` then records only the
    training metrics after each epoch (same weights, less time)."""
    if not isinstance(data, Split):
        raise TypeError(f"data must be a Split (see load_digits), but got {type(data).__name__}")
    return data._replace(val=None)


@torch.no_grad()
def right_or_wrong(model: nn.Module, pair) -> np.ndarray:
    """Which images of ``pair = (X, y)`` the model classifies right: a bool array."""
    X, y = pair
    return (model.eval()(X).argmax(dim=1) == y).numpy()


def measure(
    recipe: Recipe, seeds: Iterable[int], data: Split | None = None
) -> tuple[list[nn.Module], pd.DataFrame, np.ndarray]:
    """Train ``recipe`` on every seed and score every network on the validation set.

    A recipe that does not stop early never reads the validation set while it trains, so
    it trains without one (:func:`no_curves`: the same weights, in less time) and the
    networks are scored once, at the end. The loss is plain cross-entropy for every
    network (:func:`regutils.evaluate`), whatever loss trained it.

    Args:
        recipe (Recipe): the configuration; seeds train stacked where it allows.
        seeds (iterable of int): the seeds.
        data (Split, optional): the data. Default: the recipe's own (the book's split).

    Returns:
        (list of nn.Module, DataFrame, ndarray): the trained networks; one row per seed
        (``seed``, ``train_acc``, ``val_acc``, ``val_loss``, ``gap`` (training minus
        validation accuracy), ``epochs``, ``stacked``); and which validation images each
        network gets right, a bool array of shape ``(seeds, images)``.

    Raises:
        TypeError: if ``recipe`` is not a Recipe or ``data`` not a Split.
        ValueError: for bad seeds, or data without a validation set.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, but got {type(recipe).__name__}")
    seeds = check_seeds(seeds)
    data = recipe.data if data is None else data
    data = load_digits() if data is None else data
    if not isinstance(data, Split):
        raise TypeError(f"data must be a Split (see load_digits), but got {type(data).__name__}")
    if data.val is None:
        raise ValueError("data must have a validation set to score on, but got val=None")
    callbacks = recipe.fit_kwargs.get("callbacks", ())
    if any(isinstance(c, EarlyStopping) for c in callbacks):
        trainer = Recipe(recipe.make_model, data, **recipe.fit_kwargs)
    else:  # nothing reads the validation curve: skip it
        trainer = Recipe(recipe.make_model, no_curves(data), **recipe.fit_kwargs)
    trained = trainer.train(seeds)
    rows, right = [], []
    for seed, (model, history) in zip(seeds, trained):
        train, val = evaluate(model, data.train), evaluate(model, data.val)
        rows.append(
            {
                "seed": seed,
                "train_acc": train["acc"],
                "val_acc": val["acc"],
                "val_loss": val["loss"],
                "gap": train["acc"] - val["acc"],
                "epochs": len(history),
                "stacked": trainer.last_mode == "stacked",
            }
        )
        right.append(right_or_wrong(model, data.val))
    return [model for model, _ in trained], pd.DataFrame(rows), np.array(right)


def paired_gain(right_a, right_b) -> tuple[float, float, float, float]:
    """Gain in accuracy of configuration a over b, from their right and wrong answers.

    Args:
        right_a, right_b (array of bool): shape ``(seeds, images)``, row ``s`` the network
            of the same seed; compared on the seeds both ran (the first rows).

    Returns:
        (float, float, float, float): the mean gain; the half-widths of its 95% interval
        counting the seeds only (:func:`regutils.paired_interval`) and counting the seeds
        and the images (:func:`regutils.paired_image_interval`); and the t-test's p-value
        over the seeds (``nan`` when every seed gains the same).

    Raises:
        ValueError: if the arrays are not 2-D with the same number of images and at least
            two seeds in common.
    """
    a, b = np.asarray(right_a, dtype=float), np.asarray(right_b, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            "right_a and right_b must have shape (seeds, images) with the same images, "
            f"but got {a.shape} and {b.shape}"
        )
    n = min(len(a), len(b))
    if n < 2:
        raise ValueError(f"right_a and right_b must share at least 2 seeds, but got {n}")
    a, b = a[:n], b[:n]
    seeds_only = paired_interval(a.mean(axis=1), b.mean(axis=1))
    both = paired_image_interval(a, b)
    per_seed = a.mean(axis=1) - b.mean(axis=1)
    p = stats.ttest_1samp(per_seed, 0.0).pvalue if per_seed.std() else float("nan")
    return (
        float(seeds_only.mean),
        float(seeds_only.high - seeds_only.mean),
        float(both.high - both.mean),
        float(p),
    )


__all__ = [
    "LABEL_SMOOTHING",
    "first_layer_l1",
    "measure",
    "no_curves",
    "paired_gain",
    "right_or_wrong",
    "technique_recipes",
]
