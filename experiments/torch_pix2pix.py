"""The Pix2Pix step of bench_pix2pix.py in PyTorch eager: gan_jax's U-Net and PatchGAN, layer for
layer, with the same init, losses and Adam, in the official pix2pix code's training loop.

G (gan_jax.nets.unet.UNet): encoder Conv2d(4, 2, 1) of widths w, 2w, 4w, 8w, 8w, ... (depth
log2(side): 7 for 128 px), LeakyReLU 0.2 before every conv but the first, normalisation after
every conv but the first and the innermost, a bias only where no normalisation follows. Decoder
block i (innermost first): concat [decoder, encoder i] (not on the innermost), ReLU,
ConvTranspose2d(4, 2, 1), normalisation and, on the first three blocks, Dropout(0.5); the last
block has a bias, no normalisation, and a tanh.
D (gan_jax.nets.patchgan.PatchGAN, n_layers 3, the 70x70 patch): C64 (bias, no norm) - C128 -
C256 (4x4 stride 2) - C512 (4x4 stride 1) - a 4x4 stride-1 conv to 1 logit per patch; LeakyReLU
0.2 after every hidden layer; D sees concat(a, image).
Normalisation: InstanceNorm2d(affine=True) (flax InstanceNorm has a scale and a bias) or
BatchNorm2d (momentum 0.1 = flax's 0.9), eps 1e-5. Init: conv weights N(0, 0.02), biases 0,
BatchNorm scale N(1, 0.02), InstanceNorm scale 1 (as gan_jax).

Modules are named as gan_jax's flax parameters (down3, down3_norm, up0, conv1, norm1, logits), so
`load_flax` copies a gan_jax parameter tree into them (bench_pix2pix.py --check).

A step is the official code's optimize_parameters (Isola et al.'s pytorch-CycleGAN-and-pix2pix):
one G forward (dropout on), D's update on the real pair and on the detached G(a), then G's update
through the updated D (requires_grad off on D's parameters, so its backward only reaches the
activations) with the same G(a). Losses as gan_jax's pix2pix: D: BCE(D(a, b), 1) + BCE(D(a, G(a)),
0) over the patch map, each a mean; G: BCE(D(a, G(a)), 1) + 100 mean|G(a) - b|. Adam(2e-4, 0.5,
0.999) on both.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from experiments.torch_dcgan import torch_on_gpu

DROPOUT_BLOCKS = 3


def unet_widths(depth: int, width: int) -> list:
    return [width * min(2 ** i, 8) for i in range(depth)]


def make_norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, eps=1e-5, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
    raise ValueError(f"norm must be 'instance' or 'batch', got {kind!r}")


class TorchUNet(nn.Module):
    """NCHW [B, in_ch, S, S] in [-1, 1] -> [B, out_ch, S, S] in (-1, 1); depth = log2(S)."""

    def __init__(self, in_ch: int, out_ch: int, depth: int, width: int, norm: str,
                 dropout: float = 0.5):
        super().__init__()
        w = unet_widths(depth, width)
        self.depth = depth
        self.layers = nn.ModuleDict()
        for i in range(depth):
            inner = 0 < i < depth - 1
            self.layers[f"down{i}"] = nn.Conv2d(in_ch if i == 0 else w[i - 1], w[i], 4, 2, 1,
                                                bias=not inner)
            if inner:
                self.layers[f"down{i}_norm"] = make_norm(norm, w[i])
        for i in range(depth):
            c_in = w[i] if i == depth - 1 else 2 * w[i]        # 2 w[i]: the skip's channels too
            self.layers[f"up{i}"] = nn.ConvTranspose2d(c_in, out_ch if i == 0 else w[i - 1], 4,
                                                       2, 1, bias=i == 0)
            if i > 0:
                self.layers[f"up{i}_norm"] = make_norm(norm, w[i - 1])
            if i > 0 and depth - 1 - i < DROPOUT_BLOCKS:
                self.layers[f"up{i}_dropout"] = nn.Dropout(dropout)

    def forward(self, x):
        skips, h = [], x
        for i in range(self.depth):
            if i > 0:
                h = F.leaky_relu(h, 0.2)
            h = self.layers[f"down{i}"](h)
            if f"down{i}_norm" in self.layers:
                h = self.layers[f"down{i}_norm"](h)
            skips.append(h)
        for i in reversed(range(self.depth)):
            if i < self.depth - 1:
                h = torch.cat([h, skips[i]], dim=1)
            h = self.layers[f"up{i}"](F.relu(h))
            if i == 0:
                return torch.tanh(h)
            h = self.layers[f"up{i}_norm"](h)
            if f"up{i}_dropout" in self.layers:
                h = self.layers[f"up{i}_dropout"](h)


class TorchPatchGAN(nn.Module):
    """NCHW [B, in_ch, S, S] -> patch logits [B, 1, S/8 - 2, S/8 - 2] (n_layers 3: 70x70)."""

    def __init__(self, in_ch: int, width: int, norm: str, n_layers: int = 3):
        super().__init__()
        self.n_layers = n_layers
        self.layers = nn.ModuleDict({"conv0": nn.Conv2d(in_ch, width, 4, 2, 1)})
        ch = width
        for n in range(1, n_layers + 1):
            co, stride = width * min(2 ** n, 8), 2 if n < n_layers else 1
            self.layers[f"conv{n}"] = nn.Conv2d(ch, co, 4, stride, 1, bias=False)
            self.layers[f"norm{n}"] = make_norm(norm, co)
            ch = co
        self.layers["logits"] = nn.Conv2d(ch, 1, 4, 1, 1)

    def forward(self, x):
        h = F.leaky_relu(self.layers["conv0"](x), 0.2)
        for n in range(1, self.n_layers + 1):
            h = F.leaky_relu(self.layers[f"norm{n}"](self.layers[f"conv{n}"](h)), 0.2)
        return self.layers["logits"](h)


def init_weights(module: nn.Module):
    """N(0, 0.02) conv weights, zero biases; BatchNorm scale N(1, 0.02); InstanceNorm scale 1."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.InstanceNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def load_flax(module: nn.Module, params) -> None:
    """Copy a gan_jax (flax) parameter tree {name: {kernel|scale|bias}} into `module`: HWIO conv
    kernels -> OIHW; ConvTranspose2D's unflipped [k, k, C_in, C_out] -> [C_in, C_out, k, k]."""
    t = lambda x: torch.from_numpy(np.array(x, dtype=np.float32))  # noqa: E731
    layers = module.layers
    assert set(params) == {k for k in layers if not k.endswith("_dropout")}, \
        (sorted(params), sorted(layers))
    for name, p in params.items():
        m = layers[name]
        if isinstance(m, nn.ConvTranspose2d):
            m.weight.copy_(t(p["kernel"]).permute(2, 3, 0, 1))
        elif isinstance(m, nn.Conv2d):
            m.weight.copy_(t(p["kernel"]).permute(3, 2, 0, 1))
        else:
            m.weight.copy_(t(p["scale"]))
        if "bias" in p:
            m.bias.copy_(t(p["bias"]))
        assert (m.bias is None) == ("bias" not in p), name


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class TorchPix2Pix:
    """The bench contender: `call()` makes one training step on a random minibatch of (a, b)."""
    framework = "torch"
    steps_per_call = 1

    def __init__(self, a, b, batch: int, width: int, norm: str, lambda_l1: float = 100.0):
        torch.manual_seed(0)
        self.device = torch.device("cuda" if torch_on_gpu() else "cpu")
        side, depth = a.shape[1], a.shape[1].bit_length() - 1
        assert 2 ** depth == side, side
        self.g = TorchUNet(a.shape[-1], b.shape[-1], depth, width, norm).to(self.device)
        self.d = TorchPatchGAN(a.shape[-1] + b.shape[-1], width, norm).to(self.device)
        init_weights(self.g), init_weights(self.d)
        self.g.train(), self.d.train()
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        # uint8 NCHW, as gan_jax's stream holds them; each step converts its minibatch
        self.a, self.b = (torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(self.device)
                          for x in (a, b))
        self.batch, self.lambda_l1 = batch, lambda_l1
        self.name = "torch eager"

    @staticmethod
    def _bce(logits, target: float):
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))

    def call(self):
        pick = torch.randint(len(self.a), (self.batch,), device=self.device)
        a = self.a[pick].float() / 127.5 - 1.0
        b = self.b[pick].float() / 127.5 - 1.0
        fake = self.g(a)                                    # the step's one G forward
        set_requires_grad(self.d, True)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss = (self._bce(self.d(torch.cat([a, b], 1)), 1.0)
                  + self._bce(self.d(torch.cat([a, fake.detach()], 1)), 0.0))
        d_loss.backward()
        self.opt_d.step()
        set_requires_grad(self.d, False)                    # G's backward: D's activations only
        self.opt_g.zero_grad(set_to_none=True)
        g_loss = (self._bce(self.d(torch.cat([a, fake], 1)), 1.0)
                  + self.lambda_l1 * (fake - b).abs().mean())
        g_loss.backward()
        self.opt_g.step()

    def block(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
