"""The reference overfitting setup that every chapter compares against.

A wide MLP (:func:`reference_model`) trained with Adam on the 200-image digits
training set (:func:`regutils.load_digits`) with the budget in
:data:`regutils.reference.REFERENCE_FIT`. It fits the training set perfectly while validation
accuracy lags: the generalization gap each technique chapter tries to close.
"""

from __future__ import annotations

from torch import nn

from regutils.data import Split, load_digits
from regutils.history import History
from regutils.models import mlp
from regutils.seed import set_seed
from regutils.train import fit

#: Hidden-layer widths of the reference model, ``mlp(64, REFERENCE_HIDDEN, 10)``.
REFERENCE_HIDDEN = (256, 256)

#: The reference training budget, the keyword arguments passed to :func:`regutils.fit`.
REFERENCE_FIT = {"epochs": 150, "lr": 1e-3, "batch_size": 32, "optimizer": "adam"}


def reference_model(**overrides) -> nn.Sequential:
    """The reference MLP; keyword arguments switch on what :func:`regutils.mlp` offers.

    Example::

        >>> reference_model(dropout=0.5)[2]
        Dropout(p=0.5, inplace=False)
    """
    return mlp(64, overrides.pop("hidden", REFERENCE_HIDDEN), 10, **overrides)


def reference_run(
    seed: int | None = None,
    *,
    model: nn.Module | None = None,
    data: Split | None = None,
    **fit_overrides,
) -> History:
    """Train the reference setup once; the arguments change one thing at a time.

    Args:
        seed (int, optional): calls :func:`regutils.set_seed` before building the
            reference model. Default: none.
        model (nn.Module, optional): a model to train instead of
            :func:`reference_model`; seed it yourself before building it (passing
            ``seed`` too is an error). Default: a fresh reference model.
        data (Split, optional): instead of :func:`regutils.load_digits`.
        **fit_overrides: any :func:`regutils.fit` keyword, replacing the one in
            :data:`regutils.reference.REFERENCE_FIT` (e.g. ``penalty=...``, ``epochs=200``).

    Returns:
        History: the run's history.

    Raises:
        ValueError: if both ``seed`` and ``model`` are given.

    Example::

        >>> history = reference_run(0, epochs=2)
        >>> len(history)
        2
    """
    if seed is not None and model is not None:
        raise ValueError(
            "pass seed or model, not both: seeding after the model is built would leave its "
            "initial weights unseeded. Call set_seed(seed) before building the model instead."
        )
    if seed is not None:
        set_seed(seed)
    model = reference_model() if model is None else model
    data = load_digits() if data is None else data
    return fit(model, data.train, data.val, **{**REFERENCE_FIT, **fit_overrides})


__all__ = ["REFERENCE_FIT", "REFERENCE_HIDDEN", "reference_model", "reference_run"]
