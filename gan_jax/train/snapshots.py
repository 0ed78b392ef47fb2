"""Pictures written during training, in workdir/samples/.

- images: `step_XXXXXXX.png`, a grid of 64 samples from a fixed latent batch;
- 1-D toy: `step_XXXXXXX.png`, the paper's Figure-1 panel (data density, p_g, D(x)), with its
  numbers in `step_XXXXXXX.npz`; `figure1.png` in the workdir gathers several steps;
- 2-D mixtures: `step_XXXXXXX.png`, samples scattered over the mode centres.
"""
import glob
import os

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import viz

SAMPLE_KEY = 0x5A3B1E


def sample_path(workdir: str, step: int, ext: str = "png") -> str:
    return os.path.join(workdir, "samples", f"step_{step:07d}.{ext}")


class SnapshotWriter:

    def __init__(self, spec, data, seed: int, num_images: int = 64, num_points: int = 5000):
        self.spec, self.data = spec, data
        self.key = jax.random.fold_in(jax.random.key(seed), SAMPLE_KEY)
        n = num_images if data.kind == "image" else num_points
        self._sample = jax.jit(lambda g: spec.sample(g, self.key, n))
        if data.kind == "toy" and data.distribution.dim == 1:
            dist = data.distribution
            lo = float(dist.centres.min() - 4 * dist.stds.max())
            hi = float(dist.centres.max() + 4 * dist.stds.max())
            self.grid = np.linspace(lo, hi, 400, dtype=np.float32)
            self._d_curve = jax.jit(
                lambda d: jax.nn.sigmoid(spec.discriminate(d, jnp.asarray(self.grid)[:, None])))

    def write(self, workdir: str, step: int, g_variables, d_variables):
        samples = np.asarray(self._sample(g_variables))
        path = sample_path(workdir, step)
        if self.data.kind == "image":
            viz.save_image_grid(samples, path)
        elif self.data.distribution.dim == 1:
            snap = self.density_snapshot(step, samples, d_variables)
            np.savez(sample_path(workdir, step, "npz"), **snap)
            viz.save_density_panels([snap], path)
        else:
            viz.save_scatter_2d(samples, self.data.distribution.centres, path, title=f"step {step}")
        return path

    def density_snapshot(self, step, samples, d_variables) -> dict:
        return {"step": step, "x": self.grid, "data_pdf": self.data.distribution.pdf(self.grid),
                "generator_samples": samples[:, 0],
                "discriminator": np.asarray(self._d_curve(d_variables))}


def write_figure1(workdir: str, max_panels: int = 5) -> str:
    """Figure-1-style panels from several saved 1-D snapshots (evenly spaced in time)."""
    files = sorted(glob.glob(os.path.join(workdir, "samples", "step_*.npz")))
    if not files:
        return ""
    chosen = [files[int(round(i))] for i in np.linspace(0, len(files) - 1, min(max_panels, len(files)))]
    snaps = []
    for f in chosen:
        with np.load(f) as z:
            snaps.append({k: (int(z[k]) if k == "step" else z[k]) for k in z.files})
    path = os.path.join(workdir, "figure1.png")
    viz.save_density_panels(snaps, path)
    return path
