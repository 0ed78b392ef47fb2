"""Optax optimizers from a config: SGD with momentum (as in the paper), Adam, RMSProp (the
original WGAN), each with a learning-rate schedule that is a function of the update count.

Schedules (config `optim.<player>.schedule`), over the run's updates of that player
(`train.steps` for G, `train.steps * train.d_steps` for D), after `warmup_steps` of linear
warm-up from 0:
- `constant`: lr throughout;
- `linear_decay`: lr until `decay_start` x the run, then linearly to `final_lr_scale` x lr at its
  end (Pix2Pix / CycleGAN: constant for the first half, then linear decay to 0);
- `cosine`: cosine decay from the end of warm-up to `final_lr_scale` x lr at the end.
A constant rate without warm-up is passed to optax as a number, so the optimizer state is the
plain one (and runs trained before schedules existed restore unchanged).
"""
import optax

from gan_jax.errors import GanJaxError

OPTIMIZERS = ("adam", "sgd", "rmsprop")
SCHEDULES = ("constant", "linear_decay", "cosine")


def learning_rate(cfg, total_updates: int):
    """The learning rate of `cfg`: a float, or an optax schedule of the update count."""
    if cfg.schedule not in SCHEDULES:
        raise GanJaxError(f"unknown learning-rate schedule {cfg.schedule!r}; valid: {SCHEDULES}")
    if (cfg.lr <= 0 or cfg.warmup_steps < 0 or not 0.0 <= cfg.decay_start <= 1.0
            or cfg.final_lr_scale < 0):
        raise GanJaxError(f"optimizer settings out of range: lr={cfg.lr} (> 0), warmup_steps="
                          f"{cfg.warmup_steps} (>= 0), decay_start={cfg.decay_start} (0..1), "
                          f"final_lr_scale={cfg.final_lr_scale} (>= 0)")
    if cfg.schedule == "constant" and cfg.warmup_steps == 0:
        return cfg.lr
    warmup = int(cfg.warmup_steps)
    total = max(int(total_updates), warmup + 1)
    end = cfg.lr * cfg.final_lr_scale
    if cfg.schedule == "constant":
        after = optax.constant_schedule(cfg.lr)
    elif cfg.schedule == "linear_decay":
        start = max(int(round(cfg.decay_start * total)), warmup)
        after = optax.join_schedules(
            [optax.constant_schedule(cfg.lr),
             optax.linear_schedule(cfg.lr, end, max(total - start, 1))], [start - warmup])
    else:
        after = optax.cosine_decay_schedule(cfg.lr, max(total - warmup, 1),
                                            alpha=cfg.final_lr_scale)
    if warmup == 0:
        return after
    return optax.join_schedules([optax.linear_schedule(0.0, cfg.lr, warmup), after], [warmup])


def make_optimizer(cfg, total_updates: int = 0) -> optax.GradientTransformation:
    """cfg: name ('adam' | 'sgd' | 'rmsprop'), lr and its schedule, b1, b2 (adam), momentum,
    nesterov (sgd), rho (rmsprop's decay)."""
    lr = learning_rate(cfg, total_updates)
    if cfg.name == "adam":
        return optax.adam(lr, b1=cfg.b1, b2=cfg.b2)
    if cfg.name == "sgd":
        return optax.sgd(lr, momentum=cfg.momentum or None, nesterov=cfg.nesterov)
    if cfg.name == "rmsprop":
        return optax.rmsprop(lr, decay=cfg.rho, eps=1e-8)
    raise GanJaxError(f"unknown optimizer {cfg.name!r}; valid: {OPTIMIZERS}")


def make_optimizers(config):
    """(tx_g, tx_d) of config.optim, their schedules over the run's updates of each player."""
    t = config.train
    return (make_optimizer(config.optim.g, t.steps),
            make_optimizer(config.optim.d, t.steps * t.d_steps))
