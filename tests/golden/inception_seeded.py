"""Seeded weights and inputs for the InceptionV3 golden test, in numpy only (no torch, no jax).

Used by `make_inception.py` (which runs a PyTorch reference on them) and by
`tests/metrics/features/test_inception.py` (which rebuilds them in CI, where torch is absent).

`state_dict_shapes()` lists pytorch-fid's FID InceptionV3 state dict (torch layouts), written
out here from torchvision's Inception3 layout independently of gan_jax's Flax module, so the
loader's key table is checked against a second source. `random_state_dict(seed)` fills it with
weights that keep activations O(1) through all 94 conv layers (so a 1e-4 tolerance means
something): He-like conv weights (CONV_GAIN), BatchNorm scales in [0.8, 1.2], biases and
running means ~N(0, 0.1^2) and running variances in [0.5, 1.5]. `golden_inputs(seed)` gives smooth random
images in [-1, 1], different in content and in statistics, for the cases the golden file holds.
"""
from typing import Dict, List, Tuple

import numpy as np

Shape = Tuple[int, ...]


def _basic(prefix: str, c_in: int, c_out: int, kh: int, kw: int) -> List[Tuple[str, Shape]]:
    """BasicConv2d: conv without bias + BatchNorm2d."""
    return [(f"{prefix}.conv.weight", (c_out, c_in, kh, kw)),
            (f"{prefix}.bn.weight", (c_out,)), (f"{prefix}.bn.bias", (c_out,)),
            (f"{prefix}.bn.running_mean", (c_out,)), (f"{prefix}.bn.running_var", (c_out,))]


def _block_a(p: str, c: int, pool: int):
    return (_basic(f"{p}.branch1x1", c, 64, 1, 1) + _basic(f"{p}.branch5x5_1", c, 48, 1, 1)
            + _basic(f"{p}.branch5x5_2", 48, 64, 5, 5)
            + _basic(f"{p}.branch3x3dbl_1", c, 64, 1, 1)
            + _basic(f"{p}.branch3x3dbl_2", 64, 96, 3, 3)
            + _basic(f"{p}.branch3x3dbl_3", 96, 96, 3, 3)
            + _basic(f"{p}.branch_pool", c, pool, 1, 1))


def _block_b(p: str, c: int):
    return (_basic(f"{p}.branch3x3", c, 384, 3, 3) + _basic(f"{p}.branch3x3dbl_1", c, 64, 1, 1)
            + _basic(f"{p}.branch3x3dbl_2", 64, 96, 3, 3)
            + _basic(f"{p}.branch3x3dbl_3", 96, 96, 3, 3))


def _block_c(p: str, c: int, c7: int):
    return (_basic(f"{p}.branch1x1", c, 192, 1, 1) + _basic(f"{p}.branch7x7_1", c, c7, 1, 1)
            + _basic(f"{p}.branch7x7_2", c7, c7, 1, 7)
            + _basic(f"{p}.branch7x7_3", c7, 192, 7, 1)
            + _basic(f"{p}.branch7x7dbl_1", c, c7, 1, 1)
            + _basic(f"{p}.branch7x7dbl_2", c7, c7, 7, 1)
            + _basic(f"{p}.branch7x7dbl_3", c7, c7, 1, 7)
            + _basic(f"{p}.branch7x7dbl_4", c7, c7, 7, 1)
            + _basic(f"{p}.branch7x7dbl_5", c7, 192, 1, 7)
            + _basic(f"{p}.branch_pool", c, 192, 1, 1))


def _block_d(p: str, c: int):
    return (_basic(f"{p}.branch3x3_1", c, 192, 1, 1) + _basic(f"{p}.branch3x3_2", 192, 320, 3, 3)
            + _basic(f"{p}.branch7x7x3_1", c, 192, 1, 1)
            + _basic(f"{p}.branch7x7x3_2", 192, 192, 1, 7)
            + _basic(f"{p}.branch7x7x3_3", 192, 192, 7, 1)
            + _basic(f"{p}.branch7x7x3_4", 192, 192, 3, 3))


def _block_e(p: str, c: int):
    return (_basic(f"{p}.branch1x1", c, 320, 1, 1) + _basic(f"{p}.branch3x3_1", c, 384, 1, 1)
            + _basic(f"{p}.branch3x3_2a", 384, 384, 1, 3)
            + _basic(f"{p}.branch3x3_2b", 384, 384, 3, 1)
            + _basic(f"{p}.branch3x3dbl_1", c, 448, 1, 1)
            + _basic(f"{p}.branch3x3dbl_2", 448, 384, 3, 3)
            + _basic(f"{p}.branch3x3dbl_3a", 384, 384, 1, 3)
            + _basic(f"{p}.branch3x3dbl_3b", 384, 384, 3, 1)
            + _basic(f"{p}.branch_pool", c, 192, 1, 1))


def state_dict_shapes() -> Dict[str, Shape]:
    """pytorch-fid's FID InceptionV3 state dict: key -> shape (torch layout), in module order,
    without BatchNorm's `num_batches_tracked` counters."""
    entries = (_basic("Conv2d_1a_3x3", 3, 32, 3, 3) + _basic("Conv2d_2a_3x3", 32, 32, 3, 3)
               + _basic("Conv2d_2b_3x3", 32, 64, 3, 3) + _basic("Conv2d_3b_1x1", 64, 80, 1, 1)
               + _basic("Conv2d_4a_3x3", 80, 192, 3, 3)
               + _block_a("Mixed_5b", 192, 32) + _block_a("Mixed_5c", 256, 64)
               + _block_a("Mixed_5d", 288, 64) + _block_b("Mixed_6a", 288)
               + _block_c("Mixed_6b", 768, 128) + _block_c("Mixed_6c", 768, 160)
               + _block_c("Mixed_6d", 768, 160) + _block_c("Mixed_6e", 768, 192)
               + _block_d("Mixed_7a", 768) + _block_e("Mixed_7b", 1280)
               + _block_e("Mixed_7c", 2048)
               + [("fc.weight", (1008, 2048)), ("fc.bias", (1008,))])
    return dict(entries)


# Conv weights ~ N(0, CONV_GAIN / fan_in). He's gain 2 keeps E[x^2] through conv + ReLU, but the
# max pools and concatenations add to it: measured on the golden inputs, block outputs grew to
# RMS ~5 (pool3 up to 32) with gain 2, while with 1.5 they decayed to ~0.15 and BatchNorm's
# constant offsets began to drown the input. With 1.8 every block's output RMS stays in
# [0.6, 1.9], pool3 averages ~0.7 and two images' pool3 differ by ~40% of its mean.
CONV_GAIN = 1.8


def random_state_dict(seed: int = 0) -> Dict[str, np.ndarray]:
    """Deterministic float32 weights for every key of `state_dict_shapes()` from one numpy seed
    (PCG64, whose streams numpy keeps stable across versions)."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, shape in state_dict_shapes().items():
        leaf = key.rsplit(".", 1)[1]
        if key == "fc.weight":                  # logits std ~2: a peaked, not one-hot softmax
            value = rng.standard_normal(shape) * (2.0 / np.sqrt(shape[1]))
        elif key == "fc.bias":
            value = rng.standard_normal(shape) * 0.5
        elif key.endswith("conv.weight"):       # He-like, see CONV_GAIN
            fan_in = shape[1] * shape[2] * shape[3]
            value = rng.standard_normal(shape) * np.sqrt(CONV_GAIN / fan_in)
        elif leaf == "weight":                  # BatchNorm scale
            value = rng.uniform(0.8, 1.2, shape)
        elif leaf in ("bias", "running_mean"):
            value = rng.standard_normal(shape) * 0.1
        elif leaf == "running_var":
            value = rng.uniform(0.5, 1.5, shape)
        else:
            raise AssertionError(key)
        out[key] = value.astype(np.float32)
    return out


# name -> (number of images, height, width, channels): the golden file's input cases.
INPUT_CASES: Dict[str, Shape] = {
    "rgb299": (2, 299, 299, 3),      # no resize
    "grey28": (2, 28, 28, 1),        # grey, upsampled
    "rgb32": (2, 32, 32, 3),         # upsampled
    "rgb340": (1, 340, 340, 3),      # downsampled (no antialias)
}


def smooth_images(rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
    """[n, h, w, c] float32 in [-1, 1]: tanh of a few random plane waves per channel plus a
    little pixel noise, each image with its own offset and contrast, so images differ in
    content and in global statistics (pool3 averages over space: iid noise images would all
    look alike to it)."""
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    out = np.empty((n, h, w, c), np.float64)
    for i in range(n):
        offset, contrast = rng.uniform(-0.6, 0.6), rng.uniform(0.5, 2.5)
        for ch in range(c):
            field = np.zeros((h, w))
            for _ in range(4):
                fy, fx = rng.uniform(-6, 6, 2)
                field += rng.uniform(0.3, 1.0) * np.cos(
                    2 * np.pi * (fy * yy + fx * xx) + rng.uniform(0, 2 * np.pi))
            field += 0.3 * rng.standard_normal((h, w))
            out[i, :, :, ch] = np.tanh(offset + contrast * field / 2)
    return out.astype(np.float32)


def golden_inputs(seed: int = 1) -> Dict[str, np.ndarray]:
    """The input images of each case in INPUT_CASES, from one numpy seed."""
    rng = np.random.default_rng(seed)
    return {name: smooth_images(rng, *shape) for name, shape in INPUT_CASES.items()}


# (in_h, in_w, out_h, out_w): small 2-D resizes checked image by image against torch, beside
# the 1-D interpolation matrices of the sizes above (28, 32, 340 -> 299).
SMALL_RESIZES: List[Tuple[int, int, int, int]] = [(13, 17, 29, 11), (5, 4, 3, 9), (7, 7, 7, 2)]
