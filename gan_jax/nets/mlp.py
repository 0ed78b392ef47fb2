"""Multilayer-perceptron generator and discriminator (the original GAN's networks).

Goodfellow et al. (2014) used MLPs for both players: G maps noise z to a sample, D maps a sample
to one logit (D(x) = sigmoid(logit)). The same two modules serve the 1-D toy (out_shape=(1,)),
the 2-D mixtures (out_shape=(2,)) and MNIST (out_shape=(28, 28, 1), tanh output in [-1, 1]).
"""
import math
from typing import Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.errors import GanJaxError

ACTIVATIONS = {
    "relu": nn.relu,
    "leaky_relu": lambda x: nn.leaky_relu(x, negative_slope=0.2),
    "tanh": jnp.tanh,
    "elu": nn.elu,
    "softplus": nn.softplus,
}
OUTPUTS = {"tanh": jnp.tanh, "linear": lambda x: x}


def _maybe_batch_norm(h, enabled: bool, train: bool, axis_name):
    """BatchNorm whose training statistics span all devices (axis_name), as one big batch."""
    if not enabled:
        return h
    return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                        axis_name=axis_name if train else None)(h)


def get_activation(name: str):
    if name not in ACTIVATIONS:
        raise GanJaxError(f"unknown activation {name!r}; valid: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class MLPGenerator(nn.Module):
    """z [B, latent] -> x [B, *out_shape]: Dense layers of `hidden` widths, then the output."""
    out_shape: Sequence[int]
    hidden: Sequence[int] = (128,)
    activation: str = "relu"
    output: str = "tanh"
    batch_norm: bool = False       # BatchNorm after each hidden Dense
    axis_name: Optional[str] = "batch"  # BatchNorm statistics are averaged over this device axis

    @nn.compact
    def __call__(self, z, train: bool = True):
        act = get_activation(self.activation)
        if self.output not in OUTPUTS:
            raise GanJaxError(f"unknown generator output {self.output!r}; valid: {sorted(OUTPUTS)}")
        h = z
        for width in self.hidden:
            h = nn.Dense(width, use_bias=not self.batch_norm)(h)
            h = act(_maybe_batch_norm(h, self.batch_norm, train, self.axis_name))
        x = OUTPUTS[self.output](nn.Dense(math.prod(self.out_shape))(h))
        return x.reshape((z.shape[0], *self.out_shape))


class MLPDiscriminator(nn.Module):
    """x [B, ...] -> one logit per example [B]; D(x) = sigmoid(logit)."""
    hidden: Sequence[int] = (128,)
    activation: str = "leaky_relu"
    batch_norm: bool = False       # BatchNorm after each hidden Dense but the first
    axis_name: Optional[str] = "batch"

    @nn.compact
    def __call__(self, x, train: bool = True):
        act = get_activation(self.activation)
        h = x.reshape((x.shape[0], -1))
        for i, width in enumerate(self.hidden):
            norm = self.batch_norm and i > 0
            h = nn.Dense(width, use_bias=not norm)(h)
            h = act(_maybe_batch_norm(h, norm, train, self.axis_name))
        return nn.Dense(1)(h)[:, 0]
