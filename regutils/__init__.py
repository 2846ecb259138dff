"""regutils: the helper package of *Regularization in Deep Learning*.

Data, models, the training loop, penalties, callbacks, experiments over seeds,
plots and the exercise checker, in plain PyTorch. Every chapter imports it;
nothing in it is generated from the notebooks.
"""

from regutils.adversarial import (
    Quantize,
    adversarial_augment,
    fgsm,
    input_gradient,
    pgd,
    robust_accuracy,
    sign_noise,
)
from regutils.augment import (
    affine,
    augmenter,
    chain,
    half_turn,
    hflip,
    mixup,
    random_affine,
)
from regutils.callbacks import Callback, EarlyStopping, ForEachModel, TrainState
from regutils.claims import ClaimError, claim
from regutils.constraints import MaxNorm, max_norm_, unit_norms
from regutils.data import (
    TRUE_CUBIC,
    Split,
    corrupt_labels,
    load_digits,
    load_digits_canvas,
    load_torchvision,
    make_polynomial_data,
    make_sparse_regression,
    resize_train,
)
from regutils.ensembles import (
    CosineCycles,
    barrier,
    bootstrap,
    ensemble_probs,
    interpolate,
    load_weights,
)
from regutils.exercises import check, show_solution
from regutils.experiments import compare, run_seeds, summarize
from regutils.history import History
from regutils.models import LocallyConnected2d, mlp, small_cnn
from regutils.noise import (
    GaussianDropout,
    GaussianNoise,
    WeightNoise,
    add_weight_noise,
    gaussian_dropout,
    gaussian_noise,
)
from regutils.penalties import (
    ProximalL1,
    l1_penalty,
    l2_penalty,
    penalized_parameters,
    soft_threshold,
    soft_tying_penalty,
    sparsity,
    weight_norm,
)
from regutils.plots import (
    plot_digits,
    plot_gains,
    plot_gap,
    plot_learning_curves,
    plot_reliability,
    plot_sweep,
    plot_weight_histograms,
)
from regutils.recipe import Recipe
from regutils.reference import REFERENCE_FIT, REFERENCE_HIDDEN, reference_model, reference_run
from regutils.seed import numpy_generator, seed_shift, seeds, set_seed, torch_generator
from regutils.settings import BEST, best
from regutils.sharpness import (
    hessian_vector_product,
    rescale_relu_layers,
    top_hessian_eigenvalue,
)
from regutils.stats import (
    Interval,
    holm,
    mean_interval,
    paired_image_interval,
    paired_interval,
    resampled_interval,
)
from regutils.train import cpu_threads, evaluate, fit, fused_optimizer, resolve_device
from regutils.uncertainty import (
    Confidence,
    confidence,
    expected_calibration_error,
    mc_predict,
    reliability,
    temperature_scale,
)

__version__ = "0.1.0"

__all__ = [
    "BEST",
    "REFERENCE_FIT",
    "REFERENCE_HIDDEN",
    "TRUE_CUBIC",
    "Callback",
    "ClaimError",
    "Confidence",
    "CosineCycles",
    "EarlyStopping",
    "ForEachModel",
    "GaussianDropout",
    "GaussianNoise",
    "History",
    "Interval",
    "LocallyConnected2d",
    "MaxNorm",
    "ProximalL1",
    "Quantize",
    "Recipe",
    "Split",
    "TrainState",
    "WeightNoise",
    "add_weight_noise",
    "adversarial_augment",
    "affine",
    "augmenter",
    "barrier",
    "best",
    "bootstrap",
    "chain",
    "check",
    "claim",
    "compare",
    "confidence",
    "ensemble_probs",
    "corrupt_labels",
    "cpu_threads",
    "evaluate",
    "expected_calibration_error",
    "fit",
    "fgsm",
    "fused_optimizer",
    "gaussian_dropout",
    "gaussian_noise",
    "half_turn",
    "hessian_vector_product",
    "hflip",
    "holm",
    "input_gradient",
    "interpolate",
    "l1_penalty",
    "l2_penalty",
    "load_digits",
    "load_weights",
    "load_digits_canvas",
    "load_torchvision",
    "make_polynomial_data",
    "make_sparse_regression",
    "max_norm_",
    "mc_predict",
    "mean_interval",
    "mixup",
    "mlp",
    "numpy_generator",
    "paired_image_interval",
    "paired_interval",
    "resampled_interval",
    "penalized_parameters",
    "pgd",
    "plot_digits",
    "plot_gains",
    "plot_gap",
    "plot_learning_curves",
    "plot_reliability",
    "plot_sweep",
    "plot_weight_histograms",
    "random_affine",
    "reliability",
    "reference_model",
    "reference_run",
    "rescale_relu_layers",
    "resize_train",
    "resolve_device",
    "robust_accuracy",
    "run_seeds",
    "seed_shift",
    "seeds",
    "set_seed",
    "show_solution",
    "sign_noise",
    "small_cnn",
    "soft_threshold",
    "soft_tying_penalty",
    "sparsity",
    "temperature_scale",
    "summarize",
    "top_hessian_eigenvalue",
    "torch_generator",
    "unit_norms",
    "weight_norm",
]
