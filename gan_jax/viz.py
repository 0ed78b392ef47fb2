"""Pictures: sample grids, the paper's 1-D density panels, 2-D mode scatter plots, loss curves.

Figures are drawn on ``matplotlib.figure.Figure`` objects with the Agg canvas directly, never
through ``pyplot``: no global backend is set or changed, no window opens, nothing leaks between
calls, and it works on a headless machine. Every PNG is written at a fixed dpi without tight
bounding boxes, so its pixel size is ``figsize * DPI`` exactly.

Image grids follow the models' convention: NHWC float in [-1, 1] becomes uint8 by
u = floor(127.5 (clip(x, -1, 1) + 1) + 1/2), so -1 -> 0, 0 -> 128 and 1 -> 255.
"""

import math
import os
from typing import Any, Dict, Optional, Sequence

import numpy as np

from gan_jax.errors import GanJaxError

PADDING = 2
PAD_VALUE = 0
DPI = 100
PANEL_SIZE = 3.0  # inches per density panel / scatter plot
MAX_MAPPING_LINES = 24


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats -> uint8 by rounding 127.5 (x + 1) half up; values outside are clipped."""
    x = np.clip(np.asarray(images, dtype=np.float64), -1.0, 1.0)
    return np.floor(127.5 * (x + 1.0) + 0.5).astype(np.uint8)


def image_grid(images: np.ndarray, nrow: Optional[int] = None) -> np.ndarray:
    """Tile NHWC images in [-1, 1] into one uint8 ``(H', W', C)`` picture with 2-pixel borders.

    ``nrow`` is the number of images per row (as in torchvision's ``make_grid``); by default
    ceil(sqrt(N)), which gives a square-ish grid. With ``cols = min(nrow, N)`` and
    ``rows = ceil(N / cols)`` the result has shape
    ``(rows (H + 2) + 2, cols (W + 2) + 2, C)``: every image is surrounded by a border of
    ``PADDING`` = 2 pixels of value 0, and unused cells of the last row stay 0.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise GanJaxError(
            f'image_grid needs a non-empty NHWC batch with 1 or 3 channels, got shape '
            f'{images.shape}. Add a channel axis with x[..., None] for grayscale.')
    n, h, w, c = images.shape
    if nrow is None:
        nrow = math.ceil(math.sqrt(n))
    if nrow < 1:
        raise GanJaxError(f'nrow must be a positive number of images per row, got {nrow}.')
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + PADDING) + PADDING, cols * (w + PADDING) + PADDING, c),
                   PAD_VALUE, dtype=np.uint8)
    pixels = _to_uint8(images)
    for k in range(n):
        top = PADDING + (k // cols) * (h + PADDING)
        left = PADDING + (k % cols) * (w + PADDING)
        grid[top:top + h, left:left + w] = pixels[k]
    return grid


def _parent_dirs(path: str) -> str:
    """``path`` as a string, with its parent directories created."""
    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    return path


def save_image_grid(images: np.ndarray, path: str, nrow: Optional[int] = None) -> str:
    """Write ``image_grid(images, nrow)`` as a PNG (grayscale for 1 channel); returns ``path``."""
    from PIL import Image

    grid = image_grid(images, nrow)
    picture = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)  # 'L' or 'RGB'
    path = _parent_dirs(path)
    picture.save(path, format='PNG')
    return path


def save_gif(frames: Sequence[np.ndarray], path: str, duration_ms: int = 100) -> str:
    """Write uint8 pictures ``(H, W, C)`` (C = 1 or 3, e.g. ``image_grid`` outputs) as an
    animated GIF that loops forever, ``duration_ms`` per frame; returns ``path``. Gray levels
    are kept exactly; colour frames are reduced to a 256-colour palette by Pillow."""
    from PIL import Image

    frames = [np.asarray(f) for f in frames]
    if not frames or any(f.dtype != np.uint8 or f.ndim != 3 or f.shape != frames[0].shape
                         or f.shape[-1] not in (1, 3) for f in frames):
        raise GanJaxError(
            f'save_gif needs one or more uint8 (H, W, C) frames of one shape with 1 or 3 '
            f'channels, got {[(f.dtype.name, f.shape) for f in frames][:3]}.')
    pictures = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
    path = _parent_dirs(path)
    pictures[0].save(path, format='GIF', save_all=True, append_images=pictures[1:],
                     duration=duration_ms, loop=0)
    return path


def save_panels(panels, path: str) -> str:
    """Pictures side by side, each under its title: ``panels`` = [(title, uint8 (H, W, C))]."""
    fig = _new_figure(3.2 * len(panels), 3.6)
    for i, (title, picture) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        picture = np.asarray(picture)
        if picture.shape[-1] == 1:
            ax.imshow(picture[..., 0], cmap='gray', vmin=0, vmax=255)
        else:
            ax.imshow(picture)
        ax.set_title(title, fontsize=9)
        ax.axis('off')
    fig.tight_layout()
    return _save_figure(fig, path)


def _new_figure(width: float, height: float):
    """A pyplot-free Figure of ``width`` x ``height`` inches on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save_figure(fig, path: str) -> str:
    """Write ``fig`` as a PNG at ``DPI`` (pixel size = figsize * DPI); returns ``path``."""
    path = _parent_dirs(path)
    fig.savefig(path, format='png', dpi=DPI)
    return path


def compact_png(path: str) -> str:
    """Rewrite a PNG with a 256-colour palette (a third of the bytes of Agg's RGBA, same look);
    returns ``path``."""
    from PIL import Image

    with Image.open(path) as picture:
        rgb = picture.convert("RGB")
    rgb.quantize(256, dither=Image.Dither.NONE).save(path, format="PNG", optimize=True)
    return path


def _kde(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D ``samples`` on ``x``, Silverman's bandwidth.

    p(x) = (1 / (n h)) sum_i phi((x - s_i) / h), h = 0.9 min(sigma, IQR / 1.34) n^(-1/5);
    a constant sample falls back to a bandwidth of 1% of the x range.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    n = samples.size
    spread = min(np.std(samples), np.subtract(*np.percentile(samples, [75, 25])) / 1.34)
    if not spread > 0:
        spread = np.std(samples)
    h = 0.9 * spread * n ** (-0.2)
    if not h > 0:
        h = 0.01 * max(float(np.ptp(x)), 1e-12)
    u = (x[:, None] - samples[None, :]) / h
    return np.exp(-0.5 * u ** 2).sum(axis=1) / (n * h * math.sqrt(2.0 * math.pi))


def _draw_mapping(ax, x: np.ndarray, z: np.ndarray, gz: np.ndarray, top: float) -> None:
    """Figure 1's lower part: z on a lower line, x = G(z) on an upper one, joined by segments.

    z is drawn affinely rescaled onto the x range (the paper draws z uniform on its own line);
    at most ``MAX_MAPPING_LINES`` evenly spaced quantiles of z are shown.
    """
    from matplotlib.collections import LineCollection

    z = np.asarray(z, dtype=np.float64).reshape(-1)
    gz = np.asarray(gz, dtype=np.float64).reshape(-1)
    order = np.argsort(z)
    keep = order[np.linspace(0, z.size - 1, min(z.size, MAX_MAPPING_LINES)).astype(int)]
    lo, hi = float(x.min()), float(x.max())
    z_span = float(z.max() - z.min()) or 1.0
    z_pos = lo + (z[keep] - z.min()) / z_span * (hi - lo)
    y_x, y_z = -0.12 * top, -0.45 * top
    ax.hlines([y_x, y_z], lo, hi, colors='black', linewidth=0.8)
    segments = [[(zp, y_z), (g, y_x)] for zp, g in zip(z_pos, gz[keep])]
    ax.add_collection(LineCollection(segments, colors='0.35', linewidths=0.6))
    ax.plot(gz[keep], np.full(keep.size, y_x), 'k^', markersize=2.5)
    ax.text(lo, y_x, 'x ', ha='right', va='center', fontsize=8)
    ax.text(lo, y_z, 'z ', ha='right', va='center', fontsize=8)


def save_density_panels(snapshots: Sequence[Dict[str, Any]], path: str) -> str:
    """Goodfellow et al. (2014), Figure 1: one panel per training snapshot, in one PNG row.

    Each snapshot is a dict with ``step``; ``x`` (1-D grid); ``data_pdf`` (p_data on x, black
    dotted); ``generator_samples`` (samples of G, drawn as a Gaussian KDE of p_g on x, green
    solid); ``discriminator`` (D(x) on x, blue dashed); and optionally ``z`` with ``gz`` = G(z),
    drawn underneath as arrows from the z line to the x line, as in the paper.
    """
    if len(snapshots) == 0:
        raise GanJaxError('save_density_panels needs at least one snapshot.')
    fig = _new_figure(PANEL_SIZE * len(snapshots), PANEL_SIZE)
    axes = fig.subplots(1, len(snapshots), squeeze=False)[0]
    for ax, snap in zip(axes, snapshots):
        x = np.asarray(snap['x'], dtype=np.float64).reshape(-1)
        data_pdf = np.asarray(snap['data_pdf'], dtype=np.float64).reshape(-1)
        p_g = _kde(snap['generator_samples'], x)
        d = np.asarray(snap['discriminator'], dtype=np.float64).reshape(-1)
        ax.plot(x, data_pdf, 'k:', linewidth=1.5, label='p_data')
        ax.plot(x, p_g, 'g-', linewidth=1.5, label='p_g')
        ax.plot(x, d, 'b--', linewidth=1.5, label='D(x)')
        top = max(float(np.max(data_pdf)), float(np.max(p_g)), float(np.max(d)), 1e-12) * 1.05
        bottom = 0.0
        if snap.get('z') is not None and snap.get('gz') is not None:
            _draw_mapping(ax, x, snap['z'], snap['gz'], top)
            bottom = -0.5 * top
        ax.set_ylim(bottom, top)
        ax.set_xlim(float(x.min()), float(x.max()))
        ax.set_yticks([])
        ax.set_title(f"step {snap['step']}")
    axes[0].legend(loc='upper left', fontsize=7, frameon=False)
    fig.tight_layout()
    return _save_figure(fig, path)


def save_scatter_2d(samples: np.ndarray, centres: np.ndarray, path: str, title: str = '') -> str:
    """Generated 2-D ``samples`` as small dots over the mixture ``centres`` (red x), equal axes."""
    samples = np.asarray(samples, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    fig = _new_figure(PANEL_SIZE + 1, PANEL_SIZE + 1)
    ax = fig.subplots()
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c='tab:blue', alpha=0.4, linewidths=0)
    ax.scatter(centres[:, 0], centres[:, 1], marker='x', s=30, c='tab:red', linewidths=1)
    ax.set_aspect('equal')
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _save_figure(fig, path)


def save_curves(rows: Sequence[Dict[str, Any]], path: str,
                keys: Sequence[str] = ('d_loss', 'g_loss')) -> str:
    """Plot each metric in ``keys`` against ``step`` from a list of metric dicts (metrics.jsonl).

    Rows missing a key are skipped for that key, so sparse metrics (e.g. evaluation every k
    steps) plot fine.
    """
    fig = _new_figure(6.0, 4.0)
    ax = fig.subplots()
    plotted = False
    for key in keys:
        points = [(r['step'], r[key]) for r in rows if key in r and 'step' in r]
        if points:
            steps, values = zip(*points)
            ax.plot(steps, values, label=key, linewidth=1.2)
            plotted = True
    ax.set_xlabel('step')
    if plotted:
        ax.legend(frameon=False)
    fig.tight_layout()
    return _save_figure(fig, path)


def save_curve_panels(rows: Sequence[Dict[str, Any]], path: str,
                      panels: Sequence[Any]) -> str:
    """One panel per (title, keys) in ``panels``, each plotting its metrics against ``step``
    from a list of metric dicts (metrics.jsonl); rows missing a key are skipped for that key."""
    if not panels:
        raise GanJaxError('save_curve_panels needs at least one (title, keys) panel.')
    fig = _new_figure(6.0, 2.6 * len(panels))
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (title, keys) in zip(axes, panels):
        for key in keys:
            points = [(r['step'], r[key]) for r in rows if key in r and 'step' in r]
            if points:
                steps, values = zip(*points)
                ax.plot(steps, values, label=key, linewidth=1.0)
        ax.set_title(title, fontsize=9)
        ax.legend(frameon=False, fontsize=7)
    axes[-1].set_xlabel('step')
    fig.tight_layout()
    return _save_figure(fig, path)
