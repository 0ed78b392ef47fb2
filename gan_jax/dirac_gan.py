"""The Dirac-GAN of Mescheder, Geiger & Nowozin (2018), "Which Training Methods for GANs do
actually Converge?" (Sections 2 and 3): a one-parameter GAN whose unregularised training does
not converge, and what the common regularisers do to it.

The game
--------

Data: a Dirac at 0. Generator: one parameter theta, p_theta = delta_theta. Discriminator: the
linear D_psi(x) = psi x. The paper's objective L = E_z[f(D(G(z)))] + E_x[f(-D(x))], which G
minimises and D maximises, becomes

    L(theta, psi) = f(psi theta) + f(0),

    f(t) = -log(1 + exp(-t)) = log sigmoid(t)   (objective 'gan': the original GAN, with D's sign
                                                 flipped; f'(0) = 1/2, f''(0) = -1/4)
    f(t) = t                                    (objective 'wgan'; f'(0) = 1, f''(0) = 0)

and the gradient descent-ascent vector field is v = (-dL/dtheta, dL/dpsi) =
(-psi f'(psi theta), theta f'(psi theta)). Its only zero is the equilibrium (0, 0). Here every
field is differentiated by ``jax.grad`` from the players' losses, not written by hand:

* generator loss ``minimax``: f(psi theta) (the paper's L); ``non_saturating``: -f(-psi theta),
  the "-log D" loss (v_theta = -psi f'(-psi theta), as the official code's NSGAN). Both have
  the same Jacobian at (0, 0).
* ``clip`` = c > 0 (WGAN's weight clipping): psi is projected onto [-c, c] after every update
  (inactive near the equilibrium, so it does not change the Jacobian there).
* ``penalty`` (D's objective loses gamma/2 R, R computed from the input gradient dD/dx by
  ``jax.grad`` at the points the penalty names; dD/dx = psi at every x):
  ``r1``: R = (dD/dx)^2 at the real data x = 0, i.e. gamma/2 psi^2; ``r2``: at the fake x =
  theta, the same gamma/2 psi^2 here; ``wgan_gp``: R = (|dD/dx| - g0)^2 on an interpolate of real
  and fake, i.e. gamma/2 (|psi| - g0)^2 (Gulrajani et al.'s lambda is gamma/2, g0 = 1 theirs).
* ``noise_std`` = sigma > 0 (instance noise): real and fake samples get N(0, sigma^2) noise, the
  expectation is taken exactly enough by Gauss-Hermite quadrature (``QUADRATURE_NODES`` nodes;
  exact for the Jacobian at (0, 0), which needs only E[eps^2]); the official notebook samples.
* ``consensus`` = gamma > 0 (consensus optimisation, Mescheder et al. 2017):
  v - gamma grad(|v|^2 / 2).

Jacobian at the equilibrium (``jacobian`` with ``jax.jacfwd``; ``analytic_jacobian`` by hand):
J = [[0, -f'(0)], [f'(0), d]] with d = 2 sigma^2 f''(0) - gamma (gamma of r1, r2, wgan_gp), and
J - gamma_c J^T J with consensus. Its eigenvalues, case by case:

    unregularised (gan, ns-gan, wgan-clip)  +- i f'(0)                                 paper, Sec. 2
    instance noise (s = sigma)              f''(0) s^2 +- sqrt(f''(0)^2 s^4 - f'(0)^2) paper, Sec. 3
    R1, R2 (zero-centred penalties)         -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)      paper, Sec. 3
    consensus optimisation (d = 0)          -gamma f'(0)^2 +- i f'(0)   ours (J - gamma f'(0)^2 I)
    WGAN-GP (g0 > 0)                        none (v is discontinuous at (0, 0), see below);
                                            one-sided: -gamma/2 +- sqrt(gamma^2/4 - 1)  ours

Updates (``trajectory`` by ``lax.scan``; learning rate h for both players): simultaneous
z <- z + h v(z), whose update operator at the equilibrium is I + h J with eigenvalues 1 + h lambda;
alternating (as the official code: one G step, then ``d_steps`` = n_d D steps, each on the
latest iterate), whose operator is A_D^{n_d} A_G with A_G = [[1 + h J11, h J12], [0, 1]],
A_D = [[1, 0], [h J21, r]], r = 1 + h J22: trace 1 + h J11 + h^2 J12 J21 (1 + r + ... + r^{n_d-1})
+ r^{n_d}, determinant (1 + h J11) r^{n_d} (unregularised: the paper's
1 - a^2/2 +- sqrt((1 - a^2/2)^2 - 1), a = sqrt(n_d) h f'(0)).

What the paper shows, and this module reproduces (``experiments/dirac_gan.py``)
---------------------------------------------------------------------------------

* Unregularised GAN training is not locally convergent, because J's eigenvalues are purely
  imaginary: the continuous flow circles (theta^2 + psi^2 is constant); simultaneous GD has
  |1 +- i h f'(0)| = sqrt(1 + h^2 f'(0)^2) > 1 for every h, so it spirals outwards; alternating
  GD's eigenvalues lie on the unit circle for a <= 2 (outside it for a > 2), so it keeps
  circling without converging.
* The non-saturating loss has the same Jacobian at (0, 0), so it has no linear (exponential)
  convergence either. Its higher-order terms pull inwards, though: along the continuous flow
  d/dt (theta^2 + psi^2)/2 = t (sigmoid(-t) - sigmoid(t)) <= 0 with t = psi theta (our
  derivation), so alternating GD creeps towards (0, 0) sublinearly (|z| 1.41 -> 0.28 -> 0.14 ->
  0.046 after 500, 2000, 20000 steps at h = 0.2), while simultaneous GD stalls near |z| = 0.63,
  where that pull balances its outward spiral.
* WGAN with weight clipping and a finite number of D updates per G update does not converge:
  near (0, 0) it is the unregularised game with f'(0) = 1, and the clipping only bounds psi.
* WGAN-GP with a finite number of D updates does not converge either. In the Dirac-GAN its
  field jumps at psi = 0 (v_psi -> theta +- gamma g0), so (0, 0) is not even a zero of v: D is
  pushed to |psi| ~ g0 whenever theta ~ 0, and G keeps moving. (jax differentiates |psi| at 0
  as +1, so ``jacobian`` at (0, 0) returns the right-hand limit [[0, -1], [1, -gamma]].)
* Instance noise (sigma > 0, since f''(0) < 0) and zero-centred gradient penalties (R1, R2,
  gamma > 0) move the eigenvalues into the left half-plane: simultaneous and alternating GD
  converge locally for small enough h (for simultaneous GD, h < -2 Re(lambda) / |lambda|^2).
  gamma = 2 f'(0) is the "critical" regularisation (a double real eigenvalue -f'(0)); a larger
  gamma makes one eigenvalue approach 0 and convergence slow again. Consensus optimisation also
  converges locally (the paper's Figure 3e).

Conventions: state z = jnp.array([theta, psi]); ``Game`` is an immutable, hashable record of the
variant (a static argument of the jitted ``trajectory``). Work in float64
(``with jax.enable_x64(True)``) to compare eigenvalues to 1e-6 or better.
"""

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError

OBJECTIVES = ('gan', 'wgan')
GENERATOR_LOSSES = ('minimax', 'non_saturating')
PENALTIES = ('none', 'r1', 'r2', 'wgan_gp')
UPDATES = ('simultaneous', 'alternating')
QUADRATURE_NODES = 20
INTERPOLATE = 0.5  # WGAN-GP's x^ = u theta + (1 - u) 0; dD/dx = psi for every u


class Game(NamedTuple):
    """One Dirac-GAN variant (see the module docstring)."""
    objective: str = 'gan'               # 'gan' | 'wgan'
    generator_loss: str = 'minimax'      # 'minimax' | 'non_saturating'
    penalty: str = 'none'                # 'none' | 'r1' | 'r2' | 'wgan_gp'
    gamma: float = 0.0                   # D's objective loses gamma/2 R
    g0: float = 1.0                      # WGAN-GP's target norm
    clip: float = 0.0                    # WGAN weight clipping |psi| <= clip; 0: none
    noise_std: float = 0.0               # instance noise sigma; 0: none
    consensus: float = 0.0               # consensus optimisation weight; 0: none


def check(game: Game) -> Game:
    """``game`` if every field is valid, else GanJaxError naming the field and its valid values."""
    for field, valid in (('objective', OBJECTIVES), ('generator_loss', GENERATOR_LOSSES),
                         ('penalty', PENALTIES)):
        if getattr(game, field) not in valid:
            raise GanJaxError(f'Game.{field}={getattr(game, field)!r}; valid: {list(valid)}.')
    for field in ('gamma', 'g0', 'clip', 'noise_std', 'consensus'):
        value = getattr(game, field)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise GanJaxError(f'Game.{field} must be a finite number >= 0, got {value!r}.')
    return game


def f(objective: str, t):
    """The paper's f: log sigmoid(t) = -log(1 + exp(-t)) for 'gan', t for 'wgan'."""
    return jax.nn.log_sigmoid(t) if objective == 'gan' else t


def f_derivatives_at_zero(objective: str):
    """(f'(0), f''(0)): (1/2, -1/4) for 'gan' (sigmoid(-t) and -sigmoid(t) sigmoid(-t)), (1, 0)."""
    return (0.5, -0.25) if objective == 'gan' else (1.0, 0.0)


def discriminator(psi, x):
    """D_psi(x) = psi x."""
    return psi * x


def _expectation(g, noise_std: float):
    """E[g(eps)], eps ~ N(0, noise_std^2), by probabilists' Gauss-Hermite quadrature (``g`` is
    elementwise, evaluated at all the nodes at once); g(0) when noise_std = 0."""
    if noise_std == 0:
        return g(0.0)
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    return jnp.sum(weights / weights.sum() * g(noise_std * nodes))


def generator_loss(game: Game, theta, psi):
    """What G minimises: E f(D(theta + eps)) (minimax) or -E f(-D(theta + eps)) (non-saturating)."""
    if game.generator_loss == 'minimax':
        return _expectation(lambda e: f(game.objective, discriminator(psi, theta + e)),
                            game.noise_std)
    return -_expectation(lambda e: f(game.objective, -discriminator(psi, theta + e)),
                         game.noise_std)


def penalty(game: Game, theta, psi):
    """R (before the factor gamma/2) from the input gradient dD/dx at the penalty's points."""
    grad_x = jax.grad(discriminator, argnums=1)
    if game.penalty == 'r1':
        return jnp.square(grad_x(psi, jnp.zeros_like(theta)))           # at the real data
    if game.penalty == 'r2':
        return jnp.square(grad_x(psi, theta))                           # at the fake
    if game.penalty == 'wgan_gp':
        x_hat = INTERPOLATE * theta
        return jnp.square(jnp.abs(grad_x(psi, x_hat)) - game.g0)
    return jnp.zeros_like(psi)


def discriminator_objective(game: Game, theta, psi):
    """What D maximises: E f(D(theta + eps)) + E f(-D(eps)) - gamma/2 R."""
    fake = _expectation(lambda e: f(game.objective, discriminator(psi, theta + e)), game.noise_std)
    real = _expectation(lambda e: f(game.objective, -discriminator(psi, e)), game.noise_std)
    return fake + real - 0.5 * game.gamma * penalty(game, theta, psi)


def _plain_field(game: Game, z):
    v_theta = -jax.grad(generator_loss, argnums=1)(game, z[0], z[1])
    v_psi = jax.grad(discriminator_objective, argnums=2)(game, z[0], z[1])
    return jnp.stack([v_theta, v_psi])


def vector_field(game: Game, z):
    """v(theta, psi) = (-dL_G/dtheta, dL_D/dpsi), minus consensus * grad(|v|^2 / 2) if set."""
    v = _plain_field(game, z)
    if game.consensus:
        squared = lambda w: 0.5 * jnp.sum(jnp.square(_plain_field(game, w)))  # noqa: E731
        v = v - game.consensus * jax.grad(squared)(z)
    return v


def project(game: Game, z):
    """WGAN's weight clipping: psi onto [-clip, clip] (the identity when clip = 0)."""
    if game.clip:
        return z.at[1].set(jnp.clip(z[1], -game.clip, game.clip))
    return z


def simultaneous_step(game: Game, h, z):
    """z + h v(z), then clipping."""
    return project(game, z + h * vector_field(game, z))


def alternating_step(game: Game, h, z, d_steps: int = 1):
    """One G step, then ``d_steps`` D steps, each on the latest iterate, clipping after each."""
    z = project(game, z.at[0].add(h * vector_field(game, z)[0]))
    for _ in range(d_steps):
        z = project(game, z.at[1].add(h * vector_field(game, z)[1]))
    return z


def step_fn(game: Game, h, update: str = 'simultaneous', d_steps: int = 1):
    """The update z -> z' of ``update`` ('simultaneous' or 'alternating')."""
    check(game)
    if update == 'simultaneous':
        return functools.partial(simultaneous_step, game, h)
    if update == 'alternating':
        if not (isinstance(d_steps, int) and d_steps >= 1):
            raise GanJaxError(f'd_steps must be an int >= 1, got {d_steps!r}.')
        return lambda z: alternating_step(game, h, z, d_steps)
    raise GanJaxError(f'update={update!r}; valid: {list(UPDATES)}.')


@functools.partial(jax.jit, static_argnames=('game', 'steps', 'update', 'd_steps'))
def trajectory(game: Game, z0, h, steps: int, update: str = 'simultaneous', d_steps: int = 1):
    """[(theta_t, psi_t)] for t = 0..steps, shape (steps + 1, 2); row 0 is z0 (clipped)."""
    step = step_fn(game, h, update, d_steps)
    z0 = project(game, jnp.asarray(z0))

    def body(z, _):
        z = step(z)
        return z, z

    _, zs = jax.lax.scan(body, z0, None, length=steps)
    return jnp.concatenate([z0[None], zs])


def equilibrium(dtype=None):
    """(0, 0), in float64 under ``jax.enable_x64`` unless ``dtype`` says otherwise."""
    return jnp.zeros(2, dtype=dtype)


@functools.partial(jax.jit, static_argnames='game')
def vector_field_batch(game: Game, zs):
    """v at every row of ``zs`` (N, 2), e.g. a grid for a streamline plot: (N, 2)."""
    check(game)
    return jax.vmap(functools.partial(vector_field, game))(zs)


@functools.partial(jax.jit, static_argnames='game')
def _jacobian(game, z):
    return jax.jacfwd(functools.partial(vector_field, game))(z)


@functools.partial(jax.jit, static_argnames=('game', 'update', 'd_steps'))
def _update_jacobian(game, h, update, d_steps, z):
    return jax.jacfwd(step_fn(game, h, update, d_steps))(z)


def jacobian(game: Game, z=None):
    """dv/dz at z (default the equilibrium), by ``jax.jacfwd``: a (2, 2) array."""
    check(game)
    return _jacobian(game, equilibrium() if z is None else jnp.asarray(z))


def update_jacobian(game: Game, h, update: str = 'simultaneous', d_steps: int = 1, z=None):
    """The update operator's Jacobian dz'/dz at z (default the equilibrium), by ``jax.jacfwd``."""
    step_fn(game, h, update, d_steps)  # validates before tracing
    return _update_jacobian(game, h, update, d_steps,
                            equilibrium() if z is None else jnp.asarray(z))


def analytic_jacobian(game: Game) -> np.ndarray:
    """J at (0, 0) by hand: [[0, -f'(0)], [f'(0), 2 sigma^2 f''(0) - gamma]], minus consensus
    J^T J (WGAN-GP: the one-sided limit psi -> 0+ or 0-, where d^2/dpsi^2 (|psi| - g0)^2 = 2)."""
    check(game)
    a, b = f_derivatives_at_zero(game.objective)
    gamma = game.gamma if game.penalty != 'none' else 0.0
    j = np.array([[0.0, -a], [a, 2.0 * game.noise_std ** 2 * b - gamma]])
    return j - game.consensus * j.T @ j


def eigenvalues_2x2(m) -> np.ndarray:
    """The eigenvalues tr/2 + sqrt(tr^2/4 - det), tr/2 - sqrt(...) of a real 2x2 matrix, complex."""
    m = np.asarray(m, dtype=np.float64)
    half_trace = 0.5 * (m[0, 0] + m[1, 1])
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    root = np.sqrt(complex(half_trace ** 2 - det))
    return np.array([half_trace + root, half_trace - root])


def analytic_eigenvalues(game: Game) -> np.ndarray:
    """The eigenvalues of ``analytic_jacobian``: the paper's formulas (module docstring table)."""
    return eigenvalues_2x2(analytic_jacobian(game))


def analytic_update_operator(game: Game, h: float, update: str = 'simultaneous',
                             d_steps: int = 1) -> np.ndarray:
    """The linearised update at (0, 0) by hand: I + h J, or A_D^{d_steps} A_G (alternating)."""
    j = analytic_jacobian(game)
    if update == 'simultaneous':
        return np.eye(2) + h * j
    step_fn(game, h, update, d_steps)  # validates update and d_steps
    a_g = np.array([[1.0 + h * j[0, 0], h * j[0, 1]], [0.0, 1.0]])
    a_d = np.array([[1.0, 0.0], [h * j[1, 0], 1.0 + h * j[1, 1]]])
    return np.linalg.matrix_power(a_d, d_steps) @ a_g


def analytic_update_eigenvalues(game: Game, h: float, update: str = 'simultaneous',
                                d_steps: int = 1) -> np.ndarray:
    """1 + h lambda (simultaneous); the eigenvalues of A_D^{n_d} A_G (alternating)."""
    if update == 'simultaneous':
        return 1.0 + h * analytic_eigenvalues(game)
    return eigenvalues_2x2(analytic_update_operator(game, h, update, d_steps))


def spectral_radius(eigenvalues) -> float:
    """max |lambda|: the update converges locally if < 1, diverges if > 1."""
    return float(np.max(np.abs(np.asarray(eigenvalues))))


def distance(zs):
    """|z_t - (0, 0)| for every row of a trajectory."""
    return jnp.sqrt(jnp.sum(jnp.square(zs), axis=-1))
