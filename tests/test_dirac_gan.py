"""Tests for gan_jax.dirac_gan (Mescheder et al. 2018): the vector fields against the paper's
closed forms, the Jacobian's eigenvalues (jax.jacfwd) against the paper's formulas, the update
operators, the trajectories' behaviour, and a smoke run of experiments/dirac_gan.py --quick."""
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit

from gan_jax import dirac_gan as dg
from gan_jax.errors import GanJaxError

H = 0.2
Z0 = (1.0, 1.0)
FP = {'gan': 0.5, 'wgan': 1.0}      # f'(0)
FPP = {'gan': -0.25, 'wgan': 0.0}   # f''(0)


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def pair(centre, square):
    """centre +- sqrt(square), complex."""
    root = np.sqrt(complex(square))
    return np.array([centre + root, centre - root])


def noise_eigs(o, s):   # instance noise: f''(0) s^2 +- sqrt(f''(0)^2 s^4 - f'(0)^2)
    return pair(FPP[o] * s ** 2, FPP[o] ** 2 * s ** 4 - FP[o] ** 2)


def penalty_eigs(o, g):  # R1 / R2: -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)
    return pair(-g / 2, g ** 2 / 4 - FP[o] ** 2)


# (id, game, the paper's (or, where marked, our) eigenvalues of J at (0, 0))
CASES = [
    ('gan', dg.Game(), pair(0, -0.25)),                                    # +- i f'(0)
    ('ns_gan', dg.Game(generator_loss='non_saturating'), pair(0, -0.25)),
    ('wgan', dg.Game(objective='wgan'), pair(0, -1)),
    ('wgan_clip', dg.Game(objective='wgan', clip=1.0), pair(0, -1)),
    ('noise_0.7', dg.Game(noise_std=0.7), noise_eigs('gan', 0.7)),
    ('noise_3', dg.Game(noise_std=3.0), noise_eigs('gan', 3.0)),          # real pair
    ('ns_noise', dg.Game(generator_loss='non_saturating', noise_std=0.5),
     noise_eigs('gan', 0.5)),
    ('r1_0.3', dg.Game(penalty='r1', gamma=0.3), penalty_eigs('gan', 0.3)),
    ('r1_critical', dg.Game(penalty='r1', gamma=1.0), penalty_eigs('gan', 1.0)),
    ('r1_2', dg.Game(penalty='r1', gamma=2.0), penalty_eigs('gan', 2.0)),
    ('r2_0.3', dg.Game(penalty='r2', gamma=0.3), penalty_eigs('gan', 0.3)),
    ('ns_r1', dg.Game(generator_loss='non_saturating', penalty='r1', gamma=0.3),
     penalty_eigs('gan', 0.3)),
    ('wgan_r1', dg.Game(objective='wgan', penalty='r1', gamma=0.5), penalty_eigs('wgan', 0.5)),
    ('wgan_gp_zero_centred', dg.Game(objective='wgan', penalty='wgan_gp', gamma=0.5, g0=0.0),
     penalty_eigs('wgan', 0.5)),
    # ours: J - gamma J^T J = J - gamma f'(0)^2 I
    ('consensus', dg.Game(consensus=1.0), pair(-0.25, -0.25)),
    # ours: the one-sided limit psi -> 0+ (v jumps at psi = 0)
    ('wgan_gp', dg.Game(objective='wgan', penalty='wgan_gp', gamma=0.7, g0=1.0),
     penalty_eigs('wgan', 0.7)),
]
IDS = [c[0] for c in CASES]
# one of each kind for the (slower to compile) update operators
UPDATE_CASES = [c for c in CASES if c[0] in ('gan', 'ns_gan', 'wgan_clip', 'noise_0.7', 'r1_0.3',
                                             'r1_critical', 'consensus', 'wgan_gp')]


def sort(eigs):
    return np.sort_complex(np.asarray(eigs, dtype=complex))


@pytest.mark.parametrize('name,game,expected', CASES, ids=IDS)
def test_jacobian_eigenvalues_match_the_paper(name, game, expected):
    numerical = np.linalg.eigvals(np.asarray(dg.jacobian(game)))
    np.testing.assert_allclose(sort(numerical), sort(expected), atol=1e-6, rtol=0)
    np.testing.assert_allclose(sort(dg.analytic_eigenvalues(game)), sort(expected), atol=1e-12,
                               rtol=0)
    np.testing.assert_allclose(np.asarray(dg.jacobian(game)), dg.analytic_jacobian(game),
                               atol=1e-10, rtol=0)


@pytest.mark.parametrize('update,d_steps', [('simultaneous', 1), ('alternating', 1),
                                            ('alternating', 5)])
@pytest.mark.parametrize('name,game,expected', UPDATE_CASES, ids=[c[0] for c in UPDATE_CASES])
def test_update_operator_matches_analytic(name, game, expected, update, d_steps):
    numerical = np.asarray(dg.update_jacobian(game, H, update, d_steps))
    np.testing.assert_allclose(numerical, dg.analytic_update_operator(game, H, update, d_steps),
                               atol=1e-10, rtol=0)
    np.testing.assert_allclose(sort(np.linalg.eigvals(numerical)),
                               sort(dg.analytic_update_eigenvalues(game, H, update, d_steps)),
                               atol=1e-6, rtol=0)


@pytest.mark.parametrize('objective', dg.OBJECTIVES)
@pytest.mark.parametrize('h', [0.05, 0.2, 1.0, 5.0])
def test_unregularised_update_eigenvalues_are_the_papers(objective, h):
    game = dg.Game(objective=objective)
    a = FP[objective]
    simultaneous = pair(1.0, -(h * a) ** 2)            # 1 +- i h f'(0)
    np.testing.assert_allclose(sort(dg.analytic_update_eigenvalues(game, h)), sort(simultaneous),
                               atol=1e-12)
    assert dg.spectral_radius(simultaneous) == pytest.approx(math.sqrt(1 + (h * a) ** 2))
    for n_d in (1, 5):
        alpha = math.sqrt(n_d) * h * a                  # 1 - a^2/2 +- sqrt((1 - a^2/2)^2 - 1)
        alternating = pair(1 - alpha ** 2 / 2, (1 - alpha ** 2 / 2) ** 2 - 1)
        numerical = np.linalg.eigvals(np.asarray(dg.update_jacobian(game, h, 'alternating', n_d)))
        np.testing.assert_allclose(sort(numerical), sort(alternating), atol=1e-6)
        rho = dg.spectral_radius(numerical)
        if alpha <= 2:
            assert rho == pytest.approx(1.0, abs=1e-6)   # on the unit circle
        else:
            assert rho > 1.0 + 1e-3                       # outside it


def test_vector_fields_are_the_papers_closed_forms():
    rng = np.random.default_rng(0)
    for theta, psi in rng.uniform(-2, 2, size=(5, 2)):
        z = jnp.array([theta, psi])
        t = psi * theta
        closed = {
            dg.Game(): (-psi * expit(-t), theta * expit(-t)),
            dg.Game(generator_loss='non_saturating'): (-psi * expit(t), theta * expit(-t)),
            dg.Game(objective='wgan', clip=1.0): (-psi, theta),
            dg.Game(penalty='r1', gamma=0.3): (-psi * expit(-t), theta * expit(-t) - 0.3 * psi),
            dg.Game(penalty='r2', gamma=0.3): (-psi * expit(-t), theta * expit(-t) - 0.3 * psi),
            dg.Game(objective='wgan', penalty='wgan_gp', gamma=0.7, g0=1.0):
                (-psi, theta - 0.7 * (abs(psi) - 1.0) * np.sign(psi)),
        }
        for game, expected in closed.items():
            np.testing.assert_allclose(np.asarray(dg.vector_field(game, z)), expected,
                                       atol=1e-12, err_msg=str(game))


def test_consensus_field_is_v_minus_gamma_jt_v():
    plain, game = dg.Game(), dg.Game(consensus=0.7)
    for z in ([1.0, 1.0], [-0.3, 1.7], [0.5, -0.2]):
        z = jnp.array(z)
        v = np.asarray(dg.vector_field(plain, z))
        jac = np.asarray(dg.jacobian(plain, z))
        np.testing.assert_allclose(np.asarray(dg.vector_field(game, z)), v - 0.7 * jac.T @ v,
                                   atol=1e-12)


def test_instance_noise_expectation_matches_numerical_integration():
    game, (theta, psi), s = dg.Game(noise_std=0.7), (0.8, -1.3), 0.7
    density = lambda e: math.exp(-0.5 * (e / s) ** 2) / (s * math.sqrt(2 * math.pi))  # noqa
    expect = lambda g: integrate.quad(lambda e: g(e) * density(e), -12 * s, 12 * s)[0]  # noqa
    v_theta = expect(lambda e: -psi * expit(-psi * (theta + e)))
    v_psi = (expect(lambda e: (theta + e) * expit(-psi * (theta + e)))
             + expect(lambda e: -e * expit(psi * e)))
    np.testing.assert_allclose(np.asarray(dg.vector_field(game, jnp.array([theta, psi]))),
                               [v_theta, v_psi], atol=1e-9)


def test_wgan_gp_field_jumps_at_psi_zero():
    game = dg.Game(objective='wgan', penalty='wgan_gp', gamma=0.7, g0=1.0)
    np.testing.assert_allclose(np.asarray(dg.vector_field(game, dg.equilibrium())), [0.0, 0.7])
    for sign in (1.0, -1.0):
        v = np.asarray(dg.vector_field(game, jnp.array([0.0, sign * 1e-9])))
        np.testing.assert_allclose(v, [-sign * 1e-9, sign * 0.7], atol=1e-8)


def distances(game, update='simultaneous', d_steps=1, steps=500, h=H, z0=Z0):
    return np.asarray(dg.distance(dg.trajectory(game, jnp.array(z0), h, steps, update, d_steps)))


def test_unregularised_simultaneous_gd_spirals_out():
    d = distances(dg.Game())
    assert d[-1] > 2 * d[0]
    assert np.all(np.diff(d) > 0)                       # every step moves outwards
    near = distances(dg.Game(), z0=(0.01, 0.0), steps=200)   # the linear regime: |1 + i h/2|^n
    assert near[-1] / near[0] == pytest.approx((1 + (H / 2) ** 2) ** 100, rel=1e-3)


def test_unregularised_alternating_gd_circles():
    d = distances(dg.Game(), 'alternating')
    assert 0.9 * d[0] < d.min() and d.max() < 1.1 * d[0]


def test_small_steps_follow_the_continuous_flow_which_keeps_the_radius():
    d = distances(dg.Game(), h=1e-3, steps=2000)       # time 2: theta^2 + psi^2 = const
    assert np.max(np.abs(d - d[0])) < 1e-3


def test_non_saturating_alternating_gd_creeps_in_sublinearly():
    d = distances(dg.Game(generator_loss='non_saturating'), 'alternating')
    assert 0.1 < d[-1] < 0.5 * d[0]


@pytest.mark.parametrize('update', dg.UPDATES)
@pytest.mark.parametrize('game', [dg.Game(penalty='r1', gamma=0.3),
                                  dg.Game(penalty='r1', gamma=1.0),
                                  dg.Game(penalty='r2', gamma=0.3),
                                  dg.Game(noise_std=0.7), dg.Game(consensus=1.0)],
                         ids=['r1_0.3', 'r1_critical', 'r2_0.3', 'noise', 'consensus'])
def test_regularised_gd_converges(game, update):
    d = distances(game, update)
    assert d[-1] < 1e-2
    assert dg.spectral_radius(dg.analytic_update_eigenvalues(game, H, update)) < 1


@pytest.mark.parametrize('update,d_steps', [('simultaneous', 1), ('alternating', 5)])
def test_wgan_clip_does_not_converge(update, d_steps):
    game = dg.Game(objective='wgan', clip=1.0)
    zs = np.asarray(dg.trajectory(game, jnp.array(Z0), H, 500, update, d_steps))
    assert np.all(np.abs(zs[:, 1]) <= 1.0)
    assert np.min(np.asarray(dg.distance(zs))[-100:]) > 0.3


@pytest.mark.parametrize('update,d_steps', [('simultaneous', 1), ('alternating', 5)])
def test_wgan_gp_does_not_converge(update, d_steps):
    game = dg.Game(objective='wgan', penalty='wgan_gp', gamma=0.7, g0=1.0)
    assert np.min(distances(game, update, d_steps)[-100:]) > 0.3


def test_trajectory_shape_start_determinism_and_scan_equals_a_loop():
    game = dg.Game(objective='wgan', clip=0.5, penalty='r1', gamma=0.1)
    zs = dg.trajectory(game, jnp.array(Z0), H, 10, 'alternating', 5)
    chex.assert_shape(zs, (11, 2))
    chex.assert_type(zs, jnp.float64)
    np.testing.assert_array_equal(np.asarray(zs[0]), [1.0, 0.5])     # z0, clipped
    np.testing.assert_array_equal(
        np.asarray(zs), np.asarray(dg.trajectory(game, jnp.array(Z0), H, 10, 'alternating', 5)))
    z, step = jnp.array(Z0), dg.step_fn(game, H, 'alternating', 5)
    z = dg.project(game, z)
    for t in range(1, 11):
        z = step(z)
        np.testing.assert_allclose(np.asarray(zs[t]), np.asarray(z), rtol=1e-12, atol=1e-14)


def test_float32_without_x64():
    with jax.enable_x64(False):
        zs = dg.trajectory(dg.Game(penalty='r1', gamma=0.3), jnp.array(Z0), H, 25)
        chex.assert_type(zs, jnp.float32)
    z64 = dg.trajectory(dg.Game(penalty='r1', gamma=0.3), jnp.array(Z0), H, 25)
    np.testing.assert_allclose(np.asarray(zs), np.asarray(z64), atol=1e-5)


@pytest.mark.parametrize('bad', [dict(objective='lsgan'), dict(generator_loss='hinge'),
                                 dict(penalty='r3'), dict(gamma=-1.0),
                                 dict(noise_std=float('nan'))])
def test_invalid_game_is_refused(bad):
    with pytest.raises(GanJaxError):
        dg.jacobian(dg.Game(**bad))


def test_invalid_update_is_refused():
    with pytest.raises(GanJaxError, match='update'):
        dg.trajectory(dg.Game(), jnp.array(Z0), H, 3, 'extragradient')
    with pytest.raises(GanJaxError, match='d_steps'):
        dg.update_jacobian(dg.Game(), H, 'alternating', 0)


def test_experiment_quick_writes_figure_and_table(tmp_path):
    from PIL import Image

    from experiments.dirac_gan import VARIANTS, main

    out = main(['--quick', '--out', str(tmp_path / 'dirac')])
    with Image.open(out['figure']) as picture:
        assert picture.size[0] > 500 and picture.size[1] > 500
    table = open(out['table']).read()
    rows = [line for line in table.splitlines() if line.startswith('| ') and '---' not in line]
    assert len(rows) == 1 + 2 * len(VARIANTS)           # header + simultaneous + alternating
    assert 'alternating, n_d = 5' in table and '‖z_25‖' in table
    for row in out['rows']:
        assert row['eig_error'] < 1e-6
        assert row['rho_analytic'] == pytest.approx(row['rho_numerical'], abs=1e-6)
