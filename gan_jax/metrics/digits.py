"""A digit classifier's view of generated MNIST samples (no download, no Inception network).

A small MLP classifier (784-256-10) is trained on the offline digits' train split in a few
seconds, deterministically from a fixed seed, and reports on generated images:
- `digit_confidence`: mean of max_y p(y|x) (recognisable digits are classified confidently);
- `confident_fraction`: fraction of samples with max_y p(y|x) > 0.9;
- `digit_score`: the Inception Score computed with this classifier,
  exp(E_x KL(p(y|x) || p(y))) (10 = every sample confident and classes balanced);
- `classes_covered` and `class_histogram` of the argmax labels.
The same numbers on the held-out real test digits are given as `real_*` references.
"""
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax.metrics.inception_score import inception_score

CONFIDENT = 0.9


class DigitClassifier(nn.Module):

    @nn.compact
    def __call__(self, x):
        h = nn.relu(nn.Dense(256)(x.reshape((x.shape[0], -1))))
        return nn.Dense(10)(h)


def is_digit_data(config) -> bool:
    """MNIST digits at their own 28x28 size (the classifier's input)."""
    return config.data.name in ("mnist_offline", "mnist") and config.data.image_size in (0, 28)


@functools.lru_cache(maxsize=2)
def trained_classifier(data_dir=None, epochs: int = 15, seed: int = 0):
    """(params, test accuracy) of the classifier trained on the offline train split."""
    from gan_jax.data.images import load_images, to_model_range
    x, y = load_images("mnist_offline", "train", data_dir)
    xt, yt = load_images("mnist_offline", "test", data_dir)
    x, xt = jnp.asarray(to_model_range(x)), to_model_range(xt)
    y = jnp.asarray(y)
    model, tx = DigitClassifier(), optax.adam(1e-3)
    params = model.init(jax.random.key(seed), x[:1])
    opt = tx.init(params)

    @jax.jit
    def epoch(params, opt, key):
        perm = jax.random.permutation(key, len(x))[: len(x) // 100 * 100].reshape(-1, 100)

        def step(carry, idx):
            params, opt = carry
            loss = lambda p: optax.softmax_cross_entropy_with_integer_labels(
                model.apply(p, x[idx]), y[idx]).mean()
            updates, opt = tx.update(jax.grad(loss)(params), opt, params)
            return (optax.apply_updates(params, updates), opt), None

        return jax.lax.scan(step, (params, opt), perm)[0]

    for e in range(epochs):
        params, opt = epoch(params, opt, jax.random.key(1000 + e))
    accuracy = float(np.mean(np.argmax(model.apply(params, xt), -1) == yt))
    return params, accuracy


def classifier_probabilities(images, data_dir=None):
    params, _ = trained_classifier(data_dir)
    return np.asarray(jax.nn.softmax(DigitClassifier().apply(params, jnp.asarray(images)), -1),
                      np.float64)


def score_probabilities(p: np.ndarray, prefix: str = "") -> dict:
    conf = p.max(-1)
    hist = np.bincount(p.argmax(-1), minlength=10)
    return {f"{prefix}digit_confidence": float(conf.mean()),
            f"{prefix}confident_fraction": float(np.mean(conf > CONFIDENT)),
            f"{prefix}digit_score": inception_score(p, splits=1)[0],
            f"{prefix}classes_covered": int(np.sum(hist > 0.01 * len(p))),
            f"{prefix}class_histogram": hist.tolist()}


def digit_metrics(images, data_dir=None) -> dict:
    """Metrics of generated images [N, 28, 28, 1] in [-1, 1], with real test-set references."""
    from gan_jax.data.images import load_images, to_model_range
    _, accuracy = trained_classifier(data_dir)
    real, _ = load_images("mnist_offline", "test", data_dir)
    out = {"classifier_test_accuracy": accuracy}
    out.update(score_probabilities(classifier_probabilities(images, data_dir)))
    out.update(score_probabilities(classifier_probabilities(to_model_range(real), data_dir), "real_"))
    return out
