"""Write inception_torch.npz: a PyTorch reference of pytorch-fid's FID InceptionV3 on seeded
weights and inputs, for tests/metrics/features/test_inception.py (which runs without torch).

Run once, with torch installed (it is not a test dependency):

    PYTHONPATH=. python tests/golden/make_inception.py

The reference network below is written for this file from torchvision's Inception3 layout and
pytorch-fid's FID patches (FIDInceptionA/C/E_1/E_2), in PyTorch, independently of gan_jax's
Flax module. Weights come from `inception_seeded.random_state_dict(WEIGHTS_SEED)` and inputs from
`inception_seeded.golden_inputs(INPUTS_SEED)`, both numpy-only, so the test rebuilds them
without torch. Everything is computed in float64 and stored as float32:

    pool3_{case}        [N, 2048]   features after the global average pool
    logits_{case}       [N, 1008]   fc output, WITH its bias (pytorch-fid's `fc`)
    interp_{n}          [299, n]    torch's 1-D bilinear weights n -> 299 (align_corners=False),
                                    read off by interpolating a one-hot basis
    small{i}_x, _y      2-D F.interpolate on small NHWC images, sizes SMALL_RESIZES[i]
    pth_zip, pth_legacy uint8 bytes of torch.save files (zip and legacy layouts) of a small
                        dict of tensors (`pth_dict`), for the torch-free .pth reader test;
                        expected values in pth_expect_{key}
    weights_fingerprint float64 sums of |w| per state-dict key (numpy stream sanity check)

The inputs go through pytorch-fid's own order of operations: images in [-1, 1] are mapped to
[0, 1], resized with F.interpolate, then mapped back with 2x - 1.
"""

import io
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inception_seeded as seeded  # noqa: E402

WEIGHTS_SEED = 0
INPUTS_SEED = 1


class Conv(nn.Module):
    """BasicConv2d: conv (no bias), BatchNorm(eps=1e-3), ReLU."""

    def __init__(self, c_in, c_out, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


def avg3(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    def __init__(self, c, pool):
        super().__init__()
        self.branch1x1 = Conv(c, 64, 1)
        self.branch5x5_1, self.branch5x5_2 = Conv(c, 48, 1), Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = Conv(c, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, padding=1)
        self.branch_pool = Conv(c, pool, 1)

    def forward(self, x):
        return torch.cat([
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(avg3(x))], 1)


class BlockB(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.branch3x3 = Conv(c, 384, 3, stride=2)
        self.branch3x3dbl_1 = Conv(c, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat([
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            F.max_pool2d(x, 3, stride=2)], 1)


class BlockC(nn.Module):
    def __init__(self, c, c7):
        super().__init__()
        row, col = dict(kernel=(1, 7), padding=(0, 3)), dict(kernel=(7, 1), padding=(3, 0))
        self.branch1x1 = Conv(c, 192, 1)
        self.branch7x7_1 = Conv(c, c7, 1)
        self.branch7x7_2 = Conv(c7, c7, **row)
        self.branch7x7_3 = Conv(c7, 192, **col)
        self.branch7x7dbl_1 = Conv(c, c7, 1)
        self.branch7x7dbl_2 = Conv(c7, c7, **col)
        self.branch7x7dbl_3 = Conv(c7, c7, **row)
        self.branch7x7dbl_4 = Conv(c7, c7, **col)
        self.branch7x7dbl_5 = Conv(c7, 192, **row)
        self.branch_pool = Conv(c, 192, 1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for i in range(1, 6):
            bd = getattr(self, f"branch7x7dbl_{i}")(bd)
        return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(avg3(x))], 1)


class BlockD(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.branch3x3_1 = Conv(c, 192, 1)
        self.branch3x3_2 = Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = Conv(c, 192, 1)
        self.branch7x7x3_2 = Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = Conv(192, 192, 3, stride=2)

    def forward(self, x):
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7,
                          F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    def __init__(self, c, max_pool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = Conv(c, 320, 1)
        self.branch3x3_1 = Conv(c, 384, 1)
        self.branch3x3_2a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = Conv(c, 448, 1)
        self.branch3x3dbl_2 = Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = Conv(c, 192, 1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else avg3(x)
        return torch.cat([
            self.branch1x1(x),
            self.branch3x3_2a(b3), self.branch3x3_2b(b3),
            self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd),
            self.branch_pool(pooled)], 1)


class FidInception(nn.Module):
    """NCHW images in [0, 1] of any size -> (pool3, fc logits), pytorch-fid's way."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = Conv(80, 192, 3)
        self.Mixed_5b, self.Mixed_5c, self.Mixed_5d = BlockA(192, 32), BlockA(256, 64), \
            BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b, self.Mixed_6c = BlockC(768, 128), BlockC(768, 160)
        self.Mixed_6d, self.Mixed_6e = BlockC(768, 160), BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b, self.Mixed_7c = BlockE(1280, False), BlockE(2048, True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x01):
        x = F.interpolate(x01, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        pool3 = x.mean(dim=(2, 3))
        return pool3, self.fc(pool3)


def reference_model(state):
    """FidInception in float64, eval mode, with `state` (numpy arrays) loaded strictly."""
    model = FidInception().double().eval()
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    shapes = seeded.state_dict_shapes()
    assert list(own) == list(shapes), "inception_seeded.state_dict_shapes keys disagree"
    assert all(tuple(v.shape) == shapes[k] for k, v in own.items()), "shapes disagree"
    tensors = {k: torch.from_numpy(np.asarray(v, np.float64)) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    return model


def run_reference(model, images_nhwc):
    """pool3, fc logits (float64 numpy) of NHWC images in [-1, 1], 1 or 3 channels."""
    x = torch.from_numpy(np.asarray(images_nhwc, np.float64)).permute(0, 3, 1, 2)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    with torch.no_grad():
        pool3, logits = model((x + 1) / 2)
    return pool3.numpy(), logits.numpy()


def torch_interp_matrix(n, out=299):
    """[out, n]: F.interpolate of the one-hot basis of R^n, read row by row."""
    basis = torch.eye(n, dtype=torch.float64).reshape(1, n, n, 1)     # channel c = e_c
    y = F.interpolate(basis, size=(out, 1), mode="bilinear", align_corners=False)
    return y[0, :, :, 0].T.numpy()


def pth_dict():
    """Small tensors covering the reader's cases: dtypes, a transposed (non-contiguous) tensor,
    a view with a storage offset, two tensors sharing one storage, a 0-d and an empty tensor."""
    g = torch.Generator().manual_seed(0)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {
        "conv.weight": torch.randn(4, 3, 3, 3, generator=g),
        "transposed": torch.randn(3, 5, generator=g).t(),
        "view": base[1:3, 2:5],
        "base": base,
        "double": torch.randn(4, generator=g, dtype=torch.float64),
        "half": torch.randn(5, generator=g).half(),
        "long": torch.arange(-3, 3),
        "bn.num_batches_tracked": torch.tensor(12345),
        "int": torch.arange(4, dtype=torch.int32),
        "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3),
    }


def torch_save_bytes(obj, legacy):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return np.frombuffer(buf.getvalue(), np.uint8)


def main():
    torch.set_num_threads(2)
    state = seeded.random_state_dict(WEIGHTS_SEED)
    model = reference_model(state)
    out = {"weights_seed": np.int32(WEIGHTS_SEED), "inputs_seed": np.int32(INPUTS_SEED),
           "weights_fingerprint": np.array([np.abs(v.astype(np.float64)).sum()
                                            for v in state.values()])}
    for case, images in seeded.golden_inputs(INPUTS_SEED).items():
        pool3, logits = run_reference(model, images)
        out[f"pool3_{case}"], out[f"logits_{case}"] = pool3.astype(np.float32), \
            logits.astype(np.float32)
        print(f"{case}: pool3 mean {pool3.mean():.3f} max {pool3.max():.3f} "
              f"spread between images {np.abs(pool3[0] - pool3[-1]).mean():.3f}; "
              f"logits std {logits.std():.3f}")
    for n in sorted({shape[1] for shape in seeded.INPUT_CASES.values()} - {299}):
        out[f"interp_{n}"] = torch_interp_matrix(n).astype(np.float32)
    rng = np.random.default_rng(2)
    for i, (h, w, oh, ow) in enumerate(seeded.SMALL_RESIZES):
        x = rng.uniform(-1, 1, (2, h, w, 3))
        y = F.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=(oh, ow),
                          mode="bilinear", align_corners=False).permute(0, 2, 3, 1).numpy()
        out[f"small{i}_x"], out[f"small{i}_y"] = x.astype(np.float32), y.astype(np.float32)
    small = pth_dict()
    out["pth_zip"] = torch_save_bytes(small, legacy=False)
    out["pth_legacy"] = torch_save_bytes(small, legacy=True)
    for k, v in small.items():
        out[f"pth_expect_{k}"] = v.numpy()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inception_torch.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
