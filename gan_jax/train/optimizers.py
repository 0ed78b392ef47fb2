"""Optax optimizers from a config: SGD with momentum (as in the paper) or Adam."""
import optax

from gan_jax.errors import GanJaxError

OPTIMIZERS = ("adam", "sgd")


def make_optimizer(cfg) -> optax.GradientTransformation:
    """cfg: name ('adam' | 'sgd'), lr, b1, b2 (adam), momentum, nesterov (sgd)."""
    if cfg.name == "adam":
        return optax.adam(cfg.lr, b1=cfg.b1, b2=cfg.b2)
    if cfg.name == "sgd":
        return optax.sgd(cfg.lr, momentum=cfg.momentum or None, nesterov=cfg.nesterov)
    raise GanJaxError(f"unknown optimizer {cfg.name!r}; valid: {OPTIMIZERS}")
