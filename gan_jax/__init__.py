"""gan_jax: small, exact, reproducible GANs in JAX/Flax."""
