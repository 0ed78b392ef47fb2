"""The Dirac-GAN (Mescheder et al. 2018, Figures 1 and 3): trajectories of (theta, psi) over the
gradient vector field for every variant, simultaneous and alternating, with a table of the final
distance to the equilibrium, the Jacobian's eigenvalues (analytic and jax.jacfwd) and the
spectral radius of the update operator.

    python experiments/dirac_gan.py [--out runs/dirac_gan] [--steps 500] [--lr 0.2] [--quick]

Writes OUT/dirac_gan.png (per variant a simultaneous panel over an alternating one, four
variants a band; streamlines of v, the trajectory from (1, 1) in blue, its start in red, WGAN's
forbidden |psi| > c shaded) and OUT/table.md. As in the paper's figures (and its official
notebook): h = 0.2 for both players, 500 steps, start (1, 1), n_d = 5 D steps per G step for WGAN
and WGAN-GP when alternating, 1 otherwise. --quick: 25 steps and a coarse field, for smoke tests.
Everything runs in float64 on the CPU in seconds.
"""
import argparse
import functools
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from gan_jax import dirac_gan as dg  # noqa: E402
from gan_jax import viz  # noqa: E402

Z0 = (1.0, 1.0)
EXTENT = 2.0      # panels show theta, psi in [-EXTENT, EXTENT], as the paper's
# (label, game, D steps per G step when alternating); the paper's Figure 3 parameters
VARIANTS = [
    ("GAN", dg.Game(), 1),
    ("non-saturating GAN", dg.Game(generator_loss="non_saturating"), 1),
    ("WGAN, clip c = 1", dg.Game(objective="wgan", clip=1.0), 5),
    ("WGAN-GP, γ = 0.7, g0 = 1",
     dg.Game(objective="wgan", penalty="wgan_gp", gamma=0.7, g0=1.0), 5),
    ("consensus, γ = 1", dg.Game(consensus=1.0), 1),
    ("instance noise, σ = 0.7", dg.Game(noise_std=0.7), 1),
    ("R1, γ = 0.3", dg.Game(penalty="r1", gamma=0.3), 1),
    ("R1, γ = 1 (critical)", dg.Game(penalty="r1", gamma=1.0), 1),
]


@functools.partial(jax.jit, static_argnames=("game", "steps", "d_steps"))
def measure(game, z0, h, steps, d_steps, grid):
    """Everything jax computes for one game, in one compiled program: per update its trajectory
    and update-operator Jacobian at (0, 0); the field's Jacobian and value at (0, 0); v on the
    ``grid`` points (N, 2) for the picture."""
    zero = jnp.zeros_like(z0)
    out = {"jacobian": jax.jacfwd(functools.partial(dg.vector_field, game))(zero),
           "v_at_equilibrium": dg.vector_field(game, zero),
           "field": dg.vector_field_batch(game, grid)}
    for update in dg.UPDATES:
        n_d = d_steps if update == "alternating" else 1
        out[update] = (dg.trajectory(game, z0, h, steps, update, n_d),
                       jax.jacfwd(dg.step_fn(game, h, update, n_d))(zero))
    return out


def field_grid(size):
    """The (size^2, 2) points (theta, psi) of a square grid on [-EXTENT, EXTENT]^2."""
    x = np.linspace(-EXTENT, EXTENT, size)
    theta, psi = np.meshgrid(x, x)
    return np.stack([theta.ravel(), psi.ravel()], axis=1)


def run_all(h, steps, grid_size):
    """Every variant with simultaneous, then alternating GD: one row (a dict) each."""
    rows = {update: [] for update in dg.UPDATES}
    with jax.enable_x64(True):
        for label, game, d_steps in VARIANTS:
            out = jax.device_get(measure(game, jnp.asarray(Z0, jnp.float64), h, steps, d_steps,
                                         jnp.asarray(field_grid(grid_size))))
            eig_an = dg.analytic_eigenvalues(game)
            eig_num = np.linalg.eigvals(out["jacobian"])
            for update in dg.UPDATES:
                n_d = d_steps if update == "alternating" else 1
                zs, update_jac = out[update]
                rows[update].append({
                    "label": label, "game": game, "update": update, "d_steps": n_d,
                    "trajectory": zs, "final_distance": float(np.hypot(*zs[-1])),
                    "eig_analytic": eig_an, "eig_numerical": eig_num,
                    "eig_error": float(np.max(np.abs(np.sort_complex(eig_an)
                                                     - np.sort_complex(eig_num)))),
                    "rho_analytic": dg.spectral_radius(
                        dg.analytic_update_eigenvalues(game, h, update, n_d)),
                    "rho_numerical": dg.spectral_radius(np.linalg.eigvals(update_jac)),
                    "v_at_equilibrium": out["v_at_equilibrium"],
                    "field": out["field"].reshape(grid_size, grid_size, 2)})
    return rows["simultaneous"] + rows["alternating"]


def format_pair(eigenvalues):
    """'a ± bi' for a complex-conjugate pair, 'a, b' for two real eigenvalues."""
    lam = np.sort_complex(np.asarray(eigenvalues))
    re = [clean(x) for x in lam.real]
    im = [clean(x) for x in lam.imag]
    if im[0]:
        return f"{re[0]:.4f} ± {abs(im[0]):.4f}i"
    return f"{re[0]:.4f}, {re[1]:.4f}"


def clean(x, tol=5e-13):
    """x, with rounding noise below ``tol`` and -0.0 shown as 0."""
    return 0.0 if abs(x) < tol else float(x)


def update_name(row):
    if row["update"] == "simultaneous":
        return "simultaneous"
    return f"alternating, n_d = {row['d_steps']}"


def write_table(rows, path, h, steps):
    lines = [
        f"Dirac-GAN from (θ, ψ) = {Z0}, learning rate h = {h} for both players, {steps} steps, "
        "float64. Eigenvalues: of the Jacobian J of the vector field at (0, 0), analytic (the "
        "paper's formulas, `gan_jax/dirac_gan.py`) and from `jax.jacfwd`. ρ: spectral radius of "
        "the update operator at (0, 0) (I + hJ for simultaneous GD, A_D^n_d A_G for "
        "alternating), analytic and `jax.jacfwd` of the update step; ρ < 1: locally "
        "convergent, ρ > 1: locally divergent.", "",
        f"| variant | update | ‖z_{steps}‖ | eig(J) analytic | eig(J) jacfwd | max Δ | "
        "ρ analytic | ρ jacfwd |",
        "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        note = " *" if r["game"].penalty == "wgan_gp" else ""
        lines.append(
            f"| {r['label']} | {update_name(r)} | {r['final_distance']:.3g} | "
            f"{format_pair(r['eig_analytic'])}{note} | {format_pair(r['eig_numerical'])}{note} | "
            f"{r['eig_error']:.1e} | {r['rho_analytic']:.4f}{note} | "
            f"{r['rho_numerical']:.4f}{note} |")
    gp = next(r for r in rows if r["game"].penalty == "wgan_gp")
    lines += ["", "\\* WGAN-GP (g0 > 0): v jumps across ψ = 0 (v_ψ → θ ± γ g0), so (0, 0) is "
              f"not a zero of v (v(0, 0) = ({clean(gp['v_at_equilibrium'][0]):.2g}, "
              f"{clean(gp['v_at_equilibrium'][1]):.2g}) with jax's d|ψ|/dψ = 1 at 0) and has no "
              "Jacobian; the entries are the one-sided limit ψ → 0±, "
              "-γ/2 ± sqrt(γ²/4 - 1). ρ < 1 there does not make it converge."]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def draw_panel(ax, row, density):
    game, v = row["game"], row["field"]
    x = np.linspace(-EXTENT, EXTENT, v.shape[0])
    ax.streamplot(x, x, v[..., 0], v[..., 1], color="0.65", linewidth=0.6, density=density,
                  arrowsize=0.7)
    if game.clip:
        for lo, hi in ((game.clip, EXTENT), (-EXTENT, -game.clip)):
            ax.axhspan(lo, hi, facecolor="0.2", alpha=0.25, linewidth=0)
    zs = row["trajectory"]
    ax.plot(zs[:, 0], zs[:, 1], "-", color="tab:blue", linewidth=0.8)
    ax.plot(zs[:, 0], zs[:, 1], ".", color="tab:blue", markersize=1.5)
    ax.plot(zs[0, 0], zs[0, 1], "o", color="tab:red", markersize=4)
    ax.plot([0], [0], "k+", markersize=6)
    ax.text(0.03, 0.03, f"|z| = {row['final_distance']:.2g}", transform=ax.transAxes,
            fontsize=7, bbox=dict(facecolor="white", alpha=0.8, linewidth=0, pad=1))
    ax.set_xlim(-EXTENT, EXTENT)
    ax.set_ylim(-EXTENT, EXTENT)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=6)


def draw(rows, path, density, cols=4):
    """``cols`` variants a band: a band is a simultaneous row over an alternating row."""
    bands = -(-len(VARIANTS) // cols)
    fig = viz._new_figure(2.3 * cols, 2.5 * 2 * bands)
    axes = fig.subplots(2 * bands, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_visible(False)
    for row in rows:
        i = [label for label, _, _ in VARIANTS].index(row["label"])
        ax = axes[2 * (i // cols) + dg.UPDATES.index(row["update"]), i % cols]
        ax.set_visible(True)
        draw_panel(ax, row, density)
        ax.set_title(f"{row['label']}\n{update_name(row)}", fontsize=7)
        ax.set_xlabel("θ (generator)", fontsize=7, labelpad=1)
        if i % cols == 0:
            ax.set_ylabel("ψ (discriminator)", fontsize=7)
    fig.tight_layout(h_pad=0.6, w_pad=0.4)
    return viz.compact_png(viz._save_figure(fig, path))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join("runs", "dirac_gan"))
    parser.add_argument("--steps", type=int, default=None, help="default 500 (25 with --quick)")
    parser.add_argument("--lr", type=float, default=0.2, help="h, both players")
    parser.add_argument("--quick", action="store_true", help="25 steps, coarse field: a smoke test")
    args = parser.parse_args(argv)
    steps = args.steps or (25 if args.quick else 500)
    if steps < 1 or not args.lr > 0:
        parser.error("--steps must be >= 1 and --lr > 0")
    rows = run_all(args.lr, steps, 9 if args.quick else 41)
    table = write_table(rows, os.path.join(args.out, "table.md"), args.lr, steps)
    figure = draw(rows, os.path.join(args.out, "dirac_gan.png"), 0.3 if args.quick else 0.8)
    print(open(table).read())
    print(f"wrote {figure} and {table}")
    return {"figure": figure, "table": table, "rows": rows}


if __name__ == "__main__":
    main()
