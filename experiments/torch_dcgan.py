"""The DCGAN step of bench_dcgan.py in PyTorch eager: the identical network, init, losses and Adam.

Layers come as bench_dcgan.dcgan_layers gives them (kind, c_in, c_out, side_in, side_out):
Linear project-and-reshape, ConvTranspose2d/Conv2d 4x4 stride 2 padding 1, BatchNorm2d,
ReLU/LeakyReLU(0.2)/tanh, a final conv over the remaining side to one logit; N(0, 0.02) weights.
A step is Algorithm 1 with k = 1 as gan_jax trains it, with fresh noise for G's update; on "cuda"
where jax runs on a GPU too, under torch.autocast(bfloat16) in the bfloat16 mode.
"""
import jax
import torch
import torch.nn.functional as F


def _init_dcgan(module):
    """N(0, 0.02) weights, zero biases; BatchNorm scale N(1, 0.02), bias 0 (as gan_jax)."""
    for m in module.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)


class TorchGenerator(torch.nn.Module):
    def __init__(self, layers, channels_last: bool):
        super().__init__()
        _, latent, out, _, _ = layers[0]
        self.start_width = layers[1][1]
        self.start = int(round((out // self.start_width) ** 0.5))
        self.project = torch.nn.Linear(latent, out, bias=False)
        self.bn0 = torch.nn.BatchNorm2d(self.start_width)
        body = []
        for i, (_, ci, co, _, _) in enumerate(layers[1:]):
            last = i == len(layers) - 2
            body.append(torch.nn.ConvTranspose2d(ci, co, 4, 2, 1, bias=last))
            body += [torch.nn.Tanh()] if last else [torch.nn.BatchNorm2d(co), torch.nn.ReLU()]
        self.body = torch.nn.Sequential(*body)
        self.channels_last = channels_last

    def forward(self, z):
        h = self.project(z).view(-1, self.start_width, self.start, self.start)
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        return self.body(F.relu(self.bn0(h)))


def torch_discriminator(layers):
    body = []
    for i, (kind, ci, co, side_in, _) in enumerate(layers):
        if kind == "logit":
            body.append(torch.nn.Conv2d(ci, co, side_in, 1, 0))
        else:
            body.append(torch.nn.Conv2d(ci, co, 4, 2, 1, bias=i == 0))
            if i > 0:
                body.append(torch.nn.BatchNorm2d(co))
            body.append(torch.nn.LeakyReLU(0.2))
    return torch.nn.Sequential(*body)


class TorchContender:
    framework = "torch"
    steps_per_call = 1

    def __init__(self, setting, layers, images, channels_last: bool = False,
                 dtype: str = "float32"):
        torch.manual_seed(0)
        self.device = torch.device("cuda" if torch_on_gpu() else "cpu")
        self.autocast = dtype == "bfloat16"
        g_layers, d_layers = layers
        self.g = TorchGenerator(g_layers, channels_last)
        self.d = torch_discriminator(d_layers)
        _init_dcgan(self.g), _init_dcgan(self.d)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.g = self.g.to(self.device, memory_format=fmt)
        self.d = self.d.to(self.device, memory_format=fmt)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.real = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(
            memory_format=fmt).to(self.device)
        self.batch, self.latent = setting["batch"], setting["latent"]
        self.ones = torch.ones(self.batch, device=self.device)
        self.zeros = torch.zeros(self.batch, device=self.device)
        self.name = "torch eager" + (" channels_last" if channels_last else "")

    def _cast(self):
        """Forward passes under autocast in the bfloat16 mode (losses in float32)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast)

    def _bce(self, logits, target):
        return F.binary_cross_entropy_with_logits(logits.view(-1).float(), target)

    def call(self):
        pick = torch.randint(len(self.real), (self.batch,), device=self.device)
        x = self.real[pick].float() / 127.5 - 1.0
        noise = lambda: torch.randn(self.batch, self.latent, device=self.device)  # noqa: E731
        with self._cast():
            fake = self.g(noise())
        self.opt_d.zero_grad(set_to_none=True)
        with self._cast():
            d_loss = self._bce(self.d(x), self.ones) + self._bce(self.d(fake.detach()), self.zeros)
        d_loss.backward()
        self.opt_d.step()
        with self._cast():
            fake = self.g(noise())                             # fresh noise, as gan_jax
        self.opt_g.zero_grad(set_to_none=True)
        with self._cast():
            g_loss = self._bce(self.d(fake), self.ones)
        g_loss.backward()
        self.opt_g.step()

    def block(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()


def torch_on_gpu() -> bool:
    """PyTorch runs on the GPU where jax does too (the bench compares on one device kind)."""
    return jax.default_backend() == "gpu" and torch.cuda.is_available()
