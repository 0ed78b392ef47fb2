"""Picture writers: what a family draws during training, in workdir/samples/.

Each family names its writer (`GANSpec.snapshots(seed) -> writer`); the trainer calls
`writer.write(workdir, step, g_variables, d_variables)` every `train.sample_every` steps and
`writer.finish(workdir)` at the end of a run. Samples come from a fixed key (the same images at
every step, so the pictures show G changing, not the noise):
- `ImageGrid`: `step_XXXXXXX.png`, a grid of 64 samples;
- `ClassGrid`: one row per class (the conditional family), the same latents in every row;
- `DensityPanels`: the 1-D toy's Figure-1 panel (data density, p_g, D(x)), its numbers in
  `step_XXXXXXX.npz`; `finish` gathers several steps into `figure1.png` (as the paper's Figure 1);
- `Scatter2D`: samples scattered over the mode centres (2-D mixtures);
- `TranslationGrid`: input | output | target rows of held-out pairs (Pix2Pix);
- `CycleGrid`: a | G(a) | F(G(a)) and b | F(b) | G(F(b)) rows of held-out images (CycleGAN);
- `GrowthGrid` (PGGAN): `ImageGrid`'s grids at the current level (upsampled to the top
  resolution); `finish` gathers them into `levels.png` (the last grid of each level, side by
  side) and `growth.gif` (every grid in step order: the fade-ins as an animation). Both are made
  from the PNGs in samples/, so a resumed run's pictures cover the whole run.
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


def sample_key(seed: int):
    return jax.random.fold_in(jax.random.key(seed), SAMPLE_KEY)


class ImageGrid:
    def __init__(self, spec, seed: int, num: int = 64):
        key = sample_key(seed)
        self._sample = jax.jit(lambda g: spec.sample(g, key, num))

    def write(self, workdir: str, step: int, g_variables, d_variables=None) -> str:
        return viz.save_image_grid(np.asarray(self._sample(g_variables)),
                                   sample_path(workdir, step))

    def finish(self, workdir: str):
        return None


class ClassGrid:
    """`rows` classes (the first ones) x `per_class` samples; sample j of every row has the same
    latent, so a column shows one z across the classes."""

    def __init__(self, spec, seed: int, per_class: int = 10, rows: int = 10):
        key = sample_key(seed)
        rows = min(rows, spec.num_classes)
        labels = jnp.repeat(jnp.arange(rows, dtype=jnp.int32), per_class)
        self.per_class = per_class
        if spec.latent is not None and spec.generate is not None:
            z = jnp.tile(spec.latent(key, jnp.arange(per_class)), (rows, 1))
            self._sample = jax.jit(lambda g: spec.generate(g, z, labels))
        else:
            self._sample = jax.jit(lambda g: spec.sample(g, key, rows * per_class, labels))

    def write(self, workdir: str, step: int, g_variables, d_variables=None) -> str:
        return viz.save_image_grid(np.asarray(self._sample(g_variables)),
                                   sample_path(workdir, step), nrow=self.per_class)

    def finish(self, workdir: str):
        return None


class Scatter2D:
    def __init__(self, spec, seed: int, centres, num: int = 5000):
        key = sample_key(seed)
        self.centres = centres
        self._sample = jax.jit(lambda g: spec.sample(g, key, num))

    def write(self, workdir: str, step: int, g_variables, d_variables=None) -> str:
        path = sample_path(workdir, step)
        viz.save_scatter_2d(np.asarray(self._sample(g_variables)), self.centres, path,
                            title=f"step {step}")
        return path

    def finish(self, workdir: str):
        return None


class DensityPanels:
    """The 1-D toy: data density, p_g (a KDE of G's samples) and D(x) on a grid."""

    def __init__(self, spec, seed: int, distribution, num: int = 5000, max_panels: int = 5):
        key = sample_key(seed)
        self.distribution, self.max_panels = distribution, max_panels
        self._sample = jax.jit(lambda g: spec.sample(g, key, num))
        lo = float(distribution.centres.min() - 4 * distribution.stds.max())
        hi = float(distribution.centres.max() + 4 * distribution.stds.max())
        self.grid = np.linspace(lo, hi, 400, dtype=np.float32)
        self._d_curve = jax.jit(
            lambda d: jax.nn.sigmoid(spec.discriminate(d, jnp.asarray(self.grid)[:, None])))

    def write(self, workdir: str, step: int, g_variables, d_variables) -> str:
        samples = np.asarray(self._sample(g_variables))
        snap = self.snapshot(step, samples, d_variables)
        np.savez(sample_path(workdir, step, "npz"), **snap)
        path = sample_path(workdir, step)
        viz.save_density_panels([snap], path)
        return path

    def snapshot(self, step, samples, d_variables) -> dict:
        return {"step": step, "x": self.grid, "data_pdf": self.distribution.pdf(self.grid),
                "generator_samples": samples[:, 0],
                "discriminator": np.asarray(self._d_curve(d_variables))}

    def finish(self, workdir: str):
        return write_figure1(workdir, self.max_panels)


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


def as_rgb(images: np.ndarray) -> np.ndarray:
    """[N, H, W, 1 or 3] -> [N, H, W, 3] (grey repeated)."""
    images = np.asarray(images)
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


class TranslationGrid:
    """Image-to-image families (Pix2Pix): one row per fixed held-out pair, input | output |
    target. `pairs()` returns (inputs, targets) in [-1, 1], read on the first write."""

    def __init__(self, spec, seed: int, pairs, num: int = 6):
        key = sample_key(seed)
        self._pairs, self.num = pairs, num
        self._translate = jax.jit(lambda g, a: spec.sample(g, key, a.shape[0], a))

    def write(self, workdir: str, step: int, g_variables, d_variables=None) -> str:
        a, b = (np.asarray(v[:self.num]) for v in self._pairs())
        out = np.asarray(self._translate(g_variables, jnp.asarray(a)))
        rows = np.stack([as_rgb(a), as_rgb(out), as_rgb(b)], axis=1)
        return viz.save_image_grid(rows.reshape((-1,) + rows.shape[2:]),
                                   sample_path(workdir, step), nrow=3)

    def finish(self, workdir: str):
        return None


class CycleGrid:
    """Unpaired translation (CycleGAN): `num` rows a | G(a) | F(G(a)) of held-out A-images, then
    `num` rows b | F(b) | G(F(b)) of held-out B-images. `domains()` returns (A, B) in [-1, 1],
    read on the first write."""

    def __init__(self, spec, seed: int, domains, num: int = 4):
        key = sample_key(seed)
        self._domains, self.num = domains, num

        def cycles(g, a, b):
            fake_b = spec.sample(g, key, a.shape[0], a)
            fake_a = spec.reverse(g, key, b.shape[0], b)
            return (fake_b, spec.reverse(g, key, a.shape[0], fake_b),
                    fake_a, spec.sample(g, key, b.shape[0], fake_a))
        self._cycles = jax.jit(cycles)

    def write(self, workdir: str, step: int, g_variables, d_variables=None) -> str:
        a, b = (np.asarray(v[:self.num]) for v in self._domains())
        fake_b, rec_a, fake_a, rec_b = (np.asarray(v) for v in
                                        self._cycles(g_variables, jnp.asarray(a), jnp.asarray(b)))
        rows = [np.stack([as_rgb(x), as_rgb(y), as_rgb(z)], axis=1)
                for x, y, z in ((a, fake_b, rec_a), (b, fake_a, rec_b))]
        if rows[0].shape[2:] != rows[1].shape[2:]:
            raise ValueError(f"CycleGrid draws domains of one image size, got {a.shape[1:]} "
                             f"and {b.shape[1:]}")
        rows = np.concatenate(rows)
        return viz.save_image_grid(rows.reshape((-1,) + rows.shape[2:]),
                                   sample_path(workdir, step), nrow=3)

    def finish(self, workdir: str):
        return None


class GrowthGrid(ImageGrid):
    """PGGAN's pictures (module docstring); `schedule` is the family's `Schedule`."""

    def __init__(self, spec, seed: int, schedule, num: int = 64):
        super().__init__(spec, seed, num)
        self.schedule = schedule

    def finish(self, workdir: str):
        from PIL import Image
        paths = sorted(glob.glob(os.path.join(workdir, "samples", "step_*.png")))
        if not paths:
            return None
        steps = [int(os.path.basename(p)[5:-4]) for p in paths]
        frames = [np.asarray(Image.open(p)) for p in paths]
        frames = [f[..., None] if f.ndim == 2 else f[..., :3] for f in frames]
        viz.save_gif(frames, os.path.join(workdir, "growth.gif"), duration_ms=150)
        last = {}           # level -> (step, frame): the last grid drawn after a step of it
        for step, frame in zip(steps, frames):
            last[self.schedule.level_of(max(step - 1, 0))] = (step, frame)
        panels = [(f"{4 * 2 ** lv}x{4 * 2 ** lv} (step {st})", fr)
                  for lv, (st, fr) in sorted(last.items())]
        return viz.save_panels(panels, os.path.join(workdir, "levels.png"))
