"""Penalties on the discriminator's input gradients, added to its loss by every family.

`d_fn(x) -> outputs` is D applied to a batch (outputs of any shape per example, e.g. PatchGAN's
maps: the gradient is that of the sum of an example's outputs). The gradient of
sum_i D(x_i) with respect to x is example i's own gradient in row i only when D treats examples
independently, which BatchNorm does not; the families refuse these penalties for a D with
BatchNorm (gan_jax.gans.adversarial).

- `wasserstein_gradient_penalty` (WGAN-GP, Gulrajani et al. 2017): E[(|grad D(x^)|_2 - 1)^2] on
  x^ = x + eps (G(z) - x), eps ~ U(0, 1) per example, from fold_in(key, index) so it is the same
  on any number of devices; TF-GAN's form (sqrt(eps + sum g^2), eps = 1e-10).
- `r1_penalty` / `r2_penalty` (Mescheder et al. 2018): E[|grad D(x)|^2] on real (R1) or generated
  (R2) data; the loss adds gamma/2 times it.
"""
import jax
import jax.numpy as jnp

SQRT_EPS = 1e-10


def input_gradients(d_fn, x):
    """d sum(D(x_i)) / d x_i for every example i: [B, ...] like x."""
    return jax.grad(lambda v: jnp.sum(d_fn(v)))(x)


def _squared_norms(g):
    return jnp.sum(jnp.square(g.reshape((g.shape[0], -1))), axis=1)


def interpolates(real, fake, key, index):
    """x^_i = real_i + eps_i (fake_i - real_i), eps_i ~ U(0, 1) from fold_in(key, index_i)."""
    eps = jax.vmap(lambda i: jax.random.uniform(jax.random.fold_in(key, i)))(
        jnp.asarray(index, jnp.uint32))
    eps = eps.reshape((-1,) + (1,) * (real.ndim - 1)).astype(real.dtype)
    return real + eps * (fake - real)


def wasserstein_gradient_penalty(d_fn, real, fake, key, index):
    """E_i[(|grad D(x^_i)|_2 - 1)^2] on the interpolates of real and fake (see module doc)."""
    norms = jnp.sqrt(SQRT_EPS + _squared_norms(input_gradients(d_fn, interpolates(
        real, fake, key, index))))
    return jnp.mean(jnp.square(norms - 1.0))


def r1_penalty(d_fn, real):
    """E_i[|grad D(x_i)|^2] on real data."""
    return jnp.mean(_squared_norms(input_gradients(d_fn, real)))


def r2_penalty(d_fn, fake):
    """E_i[|grad D(G(z_i))|^2] on generated data."""
    return jnp.mean(_squared_norms(input_gradients(d_fn, fake)))
