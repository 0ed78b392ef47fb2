"""Write conv_transpose_torch.npz: PyTorch ConvTranspose2d outputs for gan_jax.ops.conv_transpose.

Run once, with torch installed (it is not a test dependency):

    python tests/golden/make_conv_transpose.py

Inputs and weights come from numpy seeds (one per configuration); PyTorch only computes the
output. Everything is stored in PyTorch's layouts, float32:

    c{i}_x     input            [N, C_in, H, W]
    c{i}_w     weight           [C_in, C_out, kh, kw]     (-> HWIO with w.transpose(2, 3, 0, 1))
    c{i}_y     output           [N, C_out, H_out, W_out]
    c{i}_args  int32 [sh, sw, ph, pw, oph, opw]            (stride, padding, output_padding)

and ``count``, the number of configurations. Computed in float64 by torch, stored as float32.
"""

import os

import numpy as np
import torch

# (n, c_in, c_out, (H, W), (kh, kw), stride, padding, output_padding)
CONFIGS = [
    (2, 4, 3, (4, 4), (4, 4), (2, 2), (1, 1), (0, 0)),    # DCGAN up-sampling layer
    (3, 5, 2, (1, 1), (4, 4), (1, 1), (0, 0), (0, 0)),    # DCGAN first layer, 1x1 -> 4x4
    (2, 3, 4, (5, 4), (3, 3), (2, 2), (1, 1), (1, 1)),
    (1, 3, 2, (5, 5), (3, 3), (1, 1), (1, 1), (0, 0)),
    (2, 2, 3, (3, 4), (5, 5), (2, 2), (2, 2), (1, 1)),
    (2, 3, 2, (3, 3), (2, 2), (2, 2), (0, 0), (0, 0)),
    (1, 2, 3, (2, 3), (3, 3), (3, 3), (0, 0), (2, 2)),
    (2, 3, 2, (3, 2), (5, 5), (3, 3), (1, 1), (0, 0)),
    (2, 3, 3, (3, 4), (4, 4), (2, 2), (1, 2), (1, 0)),
    (1, 4, 2, (4, 3), (3, 5), (2, 1), (1, 2), (0, 0)),    # rectangular kernel, mixed strides
    (2, 2, 2, (3, 3), (1, 1), (2, 2), (0, 0), (1, 1)),    # 1x1 kernel, stride 2
    (2, 3, 1, (4, 6), (5, 5), (1, 1), (2, 2), (0, 0)),    # C_out = 1 output layer
    (1, 2, 3, (3, 3), (4, 5), (2, 3), (0, 1), (1, 2)),    # stride (2, 3)
]


def main():
    out = {"count": np.int32(len(CONFIGS))}
    for i, (n, ci, co, (h, w), (kh, kw), s, p, op) in enumerate(CONFIGS):
        rng = np.random.default_rng(1000 + i)
        x = rng.standard_normal((n, ci, h, w)).astype(np.float32)
        wt = rng.standard_normal((ci, co, kh, kw)).astype(np.float32)
        layer = torch.nn.ConvTranspose2d(ci, co, (kh, kw), stride=s, padding=p,
                                         output_padding=op, bias=False).double()
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(wt).double())
            y = layer(torch.from_numpy(x).double()).numpy().astype(np.float32)
        out[f"c{i}_x"], out[f"c{i}_w"], out[f"c{i}_y"] = x, wt, y
        out[f"c{i}_args"] = np.array([*s, *p, *op], np.int32)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_transpose_torch.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path}: {len(CONFIGS)} configurations, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
