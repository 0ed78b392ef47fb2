"""The CycleGAN step of bench_cyclegan.py in PyTorch eager: the official code's networks and
training step (Zhu, Park, Isola & Efros 2017; junyanz/pytorch-CycleGAN-and-pix2pix,
`--model cycle_gan --netG resnet_6blocks --netD basic --norm instance --gan_mode lsgan`), CPU.

G (the official ResnetGenerator, n_blocks 6): ReflectionPad2d(3), Conv2d(in, w, 7), IN, ReLU;
2x [Conv2d(c, 2c, 3, stride 2, padding 1), IN, ReLU]; n_blocks x ResnetBlock(4w) =
x + [ReflectionPad2d(1), Conv2d(3x3), IN, ReLU, ReflectionPad2d(1), Conv2d(3x3), IN];
2x [ConvTranspose2d(c, c/2, 3, stride 2, padding 1, output_padding 1), IN, ReLU];
ReflectionPad2d(3), Conv2d(w, out, 7), Tanh. Every convolution has a bias (the official
`use_bias = norm_layer == InstanceNorm2d`).
D (NLayerDiscriminator, n_layers 3, the 70x70 PatchGAN): Conv(in, w, 4, 2, 1) + LReLU 0.2;
Conv(w, 2w, 4, 2, 1) + IN + LReLU; Conv(2w, 4w, 4, 2, 1) + IN + LReLU; Conv(4w, 8w, 4, 1, 1)
+ IN + LReLU; Conv(8w, 1, 4, 1, 1). Officially all with a bias.
IN: InstanceNorm2d(eps 1e-5), affine=False officially.
`style`: 'official' as above (ResNet-6 G at width 64: 7,837,699 parameters, D 2,764,737), or
'gan_jax' (the default, the bench's): as gan_jax.nets.resnet and patchgan, a convolution
followed by a norm has no bias and the InstanceNorm is affine (flax's), the same functions with
7,841,411 and 2,765,633 parameters; bench_cyclegan.py checks the counts against gan_jax's tree
and `load_flax` copies gan_jax's parameters in for the forward check. Init (the official
`init_type normal`): conv weights N(0, 0.02), biases 0, IN scale 1.

The step is the official CycleGANModel.optimize_parameters:
    forward: fake_B = G_A(real_A); rec_A = G_B(fake_B); fake_A = G_B(real_B); rec_B = G_A(fake_A)
    G step (D_A, D_B requires_grad off): idt_A = G_A(real_B); idt_B = G_B(real_A);
        loss_G = MSE(D_A(fake_B), 1) + MSE(D_B(fake_A), 1) + lambda_A |rec_A - real_A|
                 + lambda_B |rec_B - real_B| + lambda_idt (lambda_B |idt_A - real_B|
                 + lambda_A |idt_B - real_A|)          (|.| a mean; lambda 10, lambda_idt 0.5)
        one Adam over G_A's and G_B's parameters.
    D step: loss_D_A = 0.5 (MSE(D_A(real_B), 1) + MSE(D_A(pool_B.query(fake_B).detach()), 0)),
        loss_D_B likewise with real_A and pool_A.query(fake_A); one Adam over both D's.
D_A judges domain B (G_A's outputs), as officially. Adam(2e-4, 0.5, 0.999); the learning
rate's linear decay is off (constant, as in the bench's gan_jax config).
"""
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from experiments.torch_dcgan import torch_on_gpu


STYLES = {   # style: (bias on a convolution followed by a norm, affine InstanceNorm)
    "official": (True, False),   # the official code (the norm cancels that bias)
    "gan_jax": (False, True),    # gan_jax.nets.resnet / patchgan: flax's affine InstanceNorm
}


def instance_norm(channels: int, affine: bool) -> nn.Module:
    return nn.InstanceNorm2d(channels, eps=1e-5, affine=affine, track_running_stats=False)


class ResnetGenerator(nn.Module):
    """NCHW [B, in_ch, S, S] in [-1, 1] -> [B, out_ch, S, S] in (-1, 1) (S divisible by 4).
    Layers named as gan_jax's flax parameters (c7_in, down0, res0_a, res0_a_norm, up1, c7_out)
    so `load_flax` can copy a gan_jax tree in."""

    def __init__(self, in_ch: int, out_ch: int, width: int = 64, n_blocks: int = 6,
                 style: str = "official"):
        super().__init__()
        bias, affine = STYLES[style]
        w, self.n_blocks = width, n_blocks
        L = self.layers = nn.ModuleDict()
        L["c7_in"], L["c7_in_norm"] = nn.Conv2d(in_ch, w, 7, bias=bias), instance_norm(w, affine)
        for i, c in enumerate((w, 2 * w)):
            L[f"down{i}"] = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=bias)
            L[f"down{i}_norm"] = instance_norm(2 * c, affine)
        for i in range(n_blocks):
            for part in ("a", "b"):
                L[f"res{i}_{part}"] = nn.Conv2d(4 * w, 4 * w, 3, bias=bias)
                L[f"res{i}_{part}_norm"] = instance_norm(4 * w, affine)
        for i, c in enumerate((4 * w, 2 * w)):
            L[f"up{i}"] = nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1,
                                             output_padding=1, bias=bias)
            L[f"up{i}_norm"] = instance_norm(c // 2, affine)
        L["c7_out"] = nn.Conv2d(w, out_ch, 7, bias=True)

    def forward(self, x):
        L = self.layers
        h = F.relu(L["c7_in_norm"](L["c7_in"](F.pad(x, (3, 3, 3, 3), mode="reflect"))))
        for i in range(2):
            h = F.relu(L[f"down{i}_norm"](L[f"down{i}"](h)))
        for i in range(self.n_blocks):
            r = F.pad(h, (1, 1, 1, 1), mode="reflect")
            r = F.relu(L[f"res{i}_a_norm"](L[f"res{i}_a"](r)))
            r = L[f"res{i}_b_norm"](L[f"res{i}_b"](F.pad(r, (1, 1, 1, 1), mode="reflect")))
            h = h + r
        for i in range(2):
            h = F.relu(L[f"up{i}_norm"](L[f"up{i}"](h)))
        return torch.tanh(L["c7_out"](F.pad(h, (3, 3, 3, 3), mode="reflect")))


class NLayerDiscriminator(nn.Module):
    """NCHW [B, in_ch, S, S] -> patch scores [B, 1, S/8 - 2, S/8 - 2] (n_layers 3: 70x70).
    Layers named as gan_jax's PatchGAN (conv0, conv1, norm1, ..., logits)."""

    def __init__(self, in_ch: int, width: int = 64, n_layers: int = 3, style: str = "official"):
        super().__init__()
        bias, affine = STYLES[style]
        self.n_layers = n_layers
        L = self.layers = nn.ModuleDict({"conv0": nn.Conv2d(in_ch, width, 4, 2, 1)})
        ch = width
        for n in range(1, n_layers + 1):
            co, stride = width * min(2 ** n, 8), 2 if n < n_layers else 1
            L[f"conv{n}"] = nn.Conv2d(ch, co, 4, stride, 1, bias=bias)
            L[f"norm{n}"] = instance_norm(co, affine)
            ch = co
        L["logits"] = nn.Conv2d(ch, 1, 4, 1, 1)

    def forward(self, x):
        L = self.layers
        h = F.leaky_relu(L["conv0"](x), 0.2)
        for n in range(1, self.n_layers + 1):
            h = F.leaky_relu(L[f"norm{n}"](L[f"conv{n}"](h)), 0.2)
        return L["logits"](h)


def init_weights(module: nn.Module):
    """The official init_type 'normal' (gain 0.02): conv weights N(0, 0.02), biases 0; affine
    InstanceNorm scale 1, bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.InstanceNorm2d) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def load_flax(module: nn.Module, params) -> None:
    """Copy a gan_jax (flax) parameter tree {name: {kernel|scale|bias}} into `module` (style
    'gan_jax'): HWIO conv kernels -> OIHW; ConvTranspose2D's unflipped [k, k, C_in, C_out] ->
    [C_in, C_out, k, k]; InstanceNorm scale/bias -> weight/bias."""
    t = lambda x: torch.from_numpy(np.array(x, dtype=np.float32))  # noqa: E731
    layers = module.layers
    assert set(params) == set(layers), (sorted(params), sorted(layers))
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


def count_params(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def conv_shapes(module: nn.Module) -> list:
    """[(kind, kernel, stride, c_in, c_out)] of every convolution, in module order."""
    out = []
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose2d):
            out.append(("convT", m.kernel_size[0], m.stride[0], m.in_channels, m.out_channels))
        elif isinstance(m, nn.Conv2d):
            out.append(("conv", m.kernel_size[0], m.stride[0], m.in_channels, m.out_channels))
    return out


class ImagePool:
    """The official ImagePool: until `size` images are stored, store and return each new one;
    then for each image with probability 1/2 return a random stored one (replacing it with the
    new image), otherwise the new image itself."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, images):
        if self.size == 0:
            return images
        out = []
        for image in images:
            image = image.detach().unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                i = random.randint(0, self.size - 1)
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


def set_requires_grad(modules, flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


class TorchCycleGAN:
    """The bench contender: `call()` makes one official training step on random (unpaired)
    minibatches of a and b (uint8 NHWC arrays, as gan_jax's stream holds them)."""
    framework = "torch"
    steps_per_call = 1

    def __init__(self, a, b, batch: int, g_width: int = 64, d_width: int = 64,
                 res_blocks: int = 6, lambda_cycle: float = 10.0,
                 lambda_identity: float = 0.5, pool_size: int = 50, style: str = "gan_jax",
                 seed: int = 0):
        torch.manual_seed(seed)
        random.seed(seed)
        self.device = torch.device("cuda" if torch_on_gpu() else "cpu")
        ca, cb = a.shape[-1], b.shape[-1]
        self.g_a = ResnetGenerator(ca, cb, g_width, res_blocks, style).to(self.device)
        self.g_b = ResnetGenerator(cb, ca, g_width, res_blocks, style).to(self.device)
        self.d_a = NLayerDiscriminator(cb, d_width, style=style).to(self.device)
        self.d_b = NLayerDiscriminator(ca, d_width, style=style).to(self.device)
        for m in (self.g_a, self.g_b, self.d_a, self.d_b):
            init_weights(m)
            m.train()
        self.opt_g = torch.optim.Adam(list(self.g_a.parameters()) + list(self.g_b.parameters()),
                                      lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(list(self.d_a.parameters()) + list(self.d_b.parameters()),
                                      lr=2e-4, betas=(0.5, 0.999))
        self.pool_a, self.pool_b = ImagePool(pool_size), ImagePool(pool_size)
        self.a, self.b = (torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(self.device)
                          for x in (a, b))
        self.batch, self.width = batch, g_width
        self.lambda_cycle, self.lambda_identity = lambda_cycle, lambda_identity
        self.name = "torch eager" if style == "gan_jax" else f"torch {style}"

    def params(self) -> dict:
        return {"g": count_params(self.g_a), "d": count_params(self.d_a),
                "total": count_params(self.g_a, self.g_b, self.d_a, self.d_b)}

    @staticmethod
    def _mse(pred, target: float):
        return F.mse_loss(pred, torch.full_like(pred, target))

    def _d_loss(self, d, real, fake):
        return 0.5 * (self._mse(d(real), 1.0) + self._mse(d(fake.detach()), 0.0))

    def call(self):
        pick_a = torch.randint(len(self.a), (self.batch,), device=self.device)
        pick_b = torch.randint(len(self.b), (self.batch,), device=self.device)
        real_a = self.a[pick_a].float() / 127.5 - 1.0
        real_b = self.b[pick_b].float() / 127.5 - 1.0
        lam, idt = self.lambda_cycle, self.lambda_cycle * self.lambda_identity
        # forward
        fake_b = self.g_a(real_a)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(real_b)
        rec_b = self.g_a(fake_a)
        # G step: D's weights frozen, so their backward only reaches the activations
        set_requires_grad((self.d_a, self.d_b), False)
        self.opt_g.zero_grad(set_to_none=True)
        loss_idt = 0.0
        if self.lambda_identity > 0:
            idt_a = self.g_a(real_b)
            idt_b = self.g_b(real_a)
            loss_idt = idt * ((idt_a - real_b).abs().mean() + (idt_b - real_a).abs().mean())
        loss_g = (self._mse(self.d_a(fake_b), 1.0) + self._mse(self.d_b(fake_a), 1.0)
                  + lam * ((rec_a - real_a).abs().mean() + (rec_b - real_b).abs().mean())
                  + loss_idt)
        loss_g.backward()
        self.opt_g.step()
        # D step on the pools' fakes
        set_requires_grad((self.d_a, self.d_b), True)
        self.opt_d.zero_grad(set_to_none=True)
        self._d_loss(self.d_a, real_b, self.pool_b.query(fake_b)).backward()
        self._d_loss(self.d_b, real_a, self.pool_a.query(fake_a)).backward()
        self.opt_d.step()
        self.last_losses = (loss_g.detach(),)

    def block(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
