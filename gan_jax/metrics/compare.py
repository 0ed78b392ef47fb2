"""The metric set between a real and a generated image set, from their features and pixels.

Names (`--metrics` on the command line, `eval.metrics` in a config):

- `fid`: Fréchet distance between Gaussians fitted to the two feature sets (`frechet.py`);
  with Inception pool3 features this is FID, with the MNIST LeNet's it is "MNIST FID".
- `is`: Inception Score of the generated set's class probabilities, 10 splits, mean and std
  (`inception_score.py`); with the MNIST LeNet it is the "MNIST score" (at most 10).
- `kid`: Kernel Inception Distance, cubic kernel, 100 subsets of 1,000 (`kid.py`).
- `pr`, `dc`: precision/recall and density/coverage on k = 5 nearest-neighbour balls
  (`precision_recall.py`).
- `parzen`: Parzen-window log-likelihood of held-out real images under the generated ones, in
  pixel space scaled to [0, 1], sigma chosen on a validation split (`parzen.py`).
- `modes`: how the samples spread over the classifier's classes (mode collapse): classes
  covered and KL of the class histogram to uniform (`class_modes` below); Stacked MNIST and
  the 2-D mixtures have their own measures (`stacked_mnist.py`, `modes.py`).

Everything here is numpy on already-extracted features, so it serves the trainer, the
`python -m gan_jax.evaluate` command and the folder/.npz comparison alike.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from scipy.special import log_softmax

from gan_jax.errors import GanJaxError
from gan_jax.metrics.features import Features
from gan_jax.metrics.frechet import frechet_distance, gaussian_statistics
from gan_jax.metrics.inception_score import inception_score
from gan_jax.metrics.kid import kernel_inception_distance
from gan_jax.metrics.parzen import parzen_evaluation
from gan_jax.metrics.precision_recall import prdc

METRICS = ("fid", "is", "kid", "pr", "dc", "parzen", "modes")
FEATURE_METRICS = ("fid", "is", "kid", "pr", "dc")


def parse_metrics(value: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """'fid,kid' or ['fid', 'kid'] -> ('fid', 'kid'), checked against METRICS, in METRICS order."""
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value)]
    names = [v for v in names if v]
    unknown = sorted(set(names) - set(METRICS))
    if unknown or not names:
        raise GanJaxError(f"unknown metric(s) {unknown or value!r}; valid: {','.join(METRICS)} "
                          "(comma-separated, e.g. --metrics fid,kid)")
    return tuple(m for m in METRICS if m in names)


def probabilities(logits: np.ndarray) -> np.ndarray:
    """softmax in float64 (stable: log-softmax first)."""
    return np.exp(log_softmax(np.asarray(logits, np.float64), axis=-1))


def feature_metrics(real: Features, fake: Features, metrics: Sequence[str], *,
                    real_statistics: Optional[Tuple[np.ndarray, np.ndarray]] = None,
                    k: int = 5, kid_subsets: int = 100, kid_subset_size: int = 1000,
                    is_splits: int = 10, seed: int = 0) -> Dict[str, float]:
    """The requested feature metrics of `fake` against `real` (see the module docstring).

    `real_statistics`: (mu, sigma) of real.features when already computed (the trainer's
    periodic evaluation computes them once per run). `seed` draws KID's subsets.
    """
    out: Dict[str, float] = {}
    if "fid" in metrics:
        mu, sigma = real_statistics or gaussian_statistics(real.features)
        out["fid"] = frechet_distance(mu, sigma, *gaussian_statistics(fake.features))
    if "is" in metrics:
        out["is"], out["is_std"] = inception_score(probabilities(fake.logits),
                                                   splits=min(is_splits, len(fake.logits)))
    if "kid" in metrics:
        out["kid"], out["kid_std"] = kernel_inception_distance(
            real.features, fake.features, num_subsets=kid_subsets, subset_size=kid_subset_size,
            seed=seed)
    if "pr" in metrics or "dc" in metrics:
        both = prdc(real.features, fake.features, k=k)
        keys = (("precision", "recall") if "pr" in metrics else ()) + \
               (("density", "coverage") if "dc" in metrics else ())
        out.update({key: both[key] for key in keys})
    return out


def score_sets(real: Features, fake: Features, metrics: Sequence[str], *,
               parzen_sets: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None,
               real_statistics: Optional[Tuple[np.ndarray, np.ndarray]] = None,
               seed: int = 0) -> Dict:
    """Every requested metric of a generated set against a real one: the feature metrics, then
    `parzen` on `parzen_sets` = (kernel centres, validation, test) images in [-1, 1], then
    `modes` over the classes of `fake.logits`."""
    out = feature_metrics(real, fake, metrics, real_statistics=real_statistics, seed=seed)
    if "parzen" in metrics:
        if parzen_sets is None:
            raise GanJaxError("metric 'parzen' needs images (kernel centres, validation, test)")
        out.update(parzen_metrics(*parzen_sets))
    if "modes" in metrics:
        out.update(class_modes(np.argmax(fake.logits, -1), fake.logits.shape[-1]))
    return out


def pixels01(images: np.ndarray) -> np.ndarray:
    """[N, H, W, C] images in [-1, 1] -> [N, H*W*C] float64 in [0, 1] (Parzen's space)."""
    x = np.asarray(images, np.float64)
    return ((x.reshape(len(x), -1) + 1.0) / 2.0).clip(0.0, 1.0)


def parzen_metrics(fake: np.ndarray, validation: np.ndarray, test: np.ndarray) -> Dict[str, float]:
    """Parzen log-likelihood (nats per image) of `test` under Gaussians on `fake`, sigma from the
    original grid logspace(-1, 0, 10) chosen on `validation`; all images in [-1, 1]."""
    result = parzen_evaluation(pixels01(fake), pixels01(validation), pixels01(test))
    return {"parzen_ll": result["mean"], "parzen_se": result["std_error"],
            "parzen_sigma": result["sigma"]}


def class_modes(labels: np.ndarray, num_classes: int, min_share: float = 0.1) -> Dict:
    """Mode collapse over a classifier's classes.

    `classes_covered`: classes holding at least `min_share` of their fair share N / C of the
    samples (10% by default, so stray samples do not count; e.g. >= 100 of 10,000 for MNIST);
    `class_kl_to_uniform`: KL(h || uniform) = log C - H(h) of the class histogram h, in
    [0, log C] (0: balanced; log C: one class); `class_histogram`: the counts.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise GanJaxError(f"labels must be a non-empty vector, got shape {labels.shape}")
    counts = np.bincount(labels, minlength=num_classes)
    h = counts[counts > 0] / len(labels)
    return {"classes_covered": int(np.sum(counts >= min_share * len(labels) / num_classes)),
            "class_kl_to_uniform": max(float(np.sum(h * np.log(num_classes * h))), 0.0),
            "class_histogram": counts.tolist()}
