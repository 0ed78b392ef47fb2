"""Where the CycleGAN step's time goes: every kind of convolution of the ResNet-6 generator at
128x128 timed alone (forward + backward to input and kernel, reflection padding included where
the layer has it), in several jax forms, against PyTorch eager.

    PYTHONPATH=. python experiments/profile_cyclegan_layers.py [--batch 1] [--width 64]
        [--reps 10] [--layers c7_in,down1,down2,res,up1,up2,c7_out] [--whole]

Layers (bench_cyclegan's G, `cyclegan_layers`): c7_in (ReflectionPad 3 + 7x7, 3 -> w at 128),
down1 / down2 (3x3 stride 2 padding 1: w -> 2w at 128 -> 64, 2w -> 4w at 64 -> 32), res
(ReflectionPad 1 + 3x3, 4w -> 4w at 32x32; 12 per G), up1 / up2 (ConvTranspose 3x3 stride 2
padding 1, output_padding 1: 4w -> 2w at 32 -> 64, 2w -> w at 64 -> 128), c7_out
(ReflectionPad 3 + 7x7, w -> 3 at 128). A training step runs each of G's layers 6 times forward
and backward (G_A and G_B, 3 images each: real, reconstruction, identity), so a layer's per-step
cost is ~6 x count x its time here (the first layer's input gradient is not needed in the step;
it is timed here).

jax forms (all plain jax, autodiff for the backward; the gan_jax ones from gan_jax.ops):
  xla        lax.conv_general_dilated (transposed: gan_jax conv_transpose impl='xla')
  im2col     the k*k shifted views concatenated, one GEMM [N*H*W, k*k*C] @ [k*k*C, O]
  taps       (3x3 stride 1) one GEMM [N*H*W, C] @ [C, O] per tap, summed (no im2col copy)
  gemm_oa    (7x7 with few outputs) GEMM first, [N*H'*W', C] @ [C, 49*O], then the 49 taps
             overlap-added: touches the thin side only
  oa_planes  gemm_oa with the taps outermost (K^T @ X^T: each tap a contiguous plane)
  oa_vjp     gemm_oa with a hand-written backward: the output gradient's im2col (thin: kh*kw*O
             values per pixel), then dX and dK as two plain GEMMs
  wino23 / wino43  Winograd F(2x2, 3x3) / F(4x4, 3x3) (Lavin & Gray): 16 / 36 GEMMs over
             channels, 2.25x / 4x fewer multiplies than direct (stride-1 3x3 only)
  subpixel   gan_jax conv_transpose impl='subpixel' (every phase padded to 2x2 taps: 16 taps'
             work for 9)
  phases     the exact phase split of the 3x3 / 2 transposed conv: phases with 1, 2, 2, 4 taps,
             four GEMMs, 9 taps' work; phase_taps: the same with one GEMM per tap (9 GEMMs)
  as4x4_w / as4x4_g  the 3x3 / 2 layer as the 4x4 / 2 layer with a zero last kernel row and
             column (exact: Conv2d(3, 2, 1) == Conv2d(4, 2, 1) with k[3, :] = k[:, 3] = 0;
             ConvTranspose2d(3, 2, 1, output_padding 1) == ConvTranspose2d(4, 2, 1) likewise),
             run by gan_jax.ops' Winograd (`_w`) or GEMM (`_g`) forms
  gan_jax    what gan_jax.nets.resnet runs with conv_impl='fast' (gan_jax.ops.choice:
             conv_valid, strided_conv3x3, conv_transpose3x3); "before" is the form it ran
             before choice covered these layers (XLA's convolutions, subpixel for up)
PyTorch: F.pad(reflect) + F.conv2d / F.conv_transpose2d with autograd, 2 threads (oneDNN).
Each cell is the median of --reps calls after a warm-up, ms per forward+backward; `*` marks the
fastest jax form; "gan_jax now" is the form gan_jax.nets.resnet runs today (GAN_JAX_FORM), and
"before" the one it ran before (BEFORE_FORM). Every
form's forward and gradients are checked against XLA's (relative error < 1e-4) and the forward
against PyTorch's. `--whole` also times one generator's forward+backward (loss sum(y^2)) in
gan_jax (the registry's resnet G, bench_cyclegan.generator_net) and in PyTorch.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from gan_jax.ops import choice  # noqa: E402
from gan_jax.ops.choice import conv_transpose4x4, strided_conv4x4  # noqa: E402
from gan_jax.ops.conv_transpose import conv_transpose  # noqa: E402

DN = ("NHWC", "HWIO", "NHWC")
# the form gan_jax.nets.resnet runs now (conv_impl 'fast': gan_jax.ops.choice), and the one it
# ran before: nn.Conv (XLA's) for the convolutions, ConvTranspose2D 'subpixel' on CPU for 3x3
GAN_JAX_FORM = {"same": "gan_jax", "down": "gan_jax", "up": "gan_jax"}
BEFORE_FORM = {"same": "xla", "down": "xla", "up": "subpixel"}
SIZE = 128


def cyclegan_layers(width: int = 64, size: int = SIZE, channels: int = 3):
    """(name, kind, kernel, side_in, c_in, c_out, count per G) of the ResNet-6 G's convolutions;
    kind 'same' (reflection-padded, stride 1), 'down' (3x3 stride 2, zero padding 1) or 'up'
    (ConvTranspose 3x3 stride 2 padding 1 output_padding 1)."""
    w = width
    return [("c7_in", "same", 7, size, channels, w, 1),
            ("down1", "down", 3, size, w, 2 * w, 1),
            ("down2", "down", 3, size // 2, 2 * w, 4 * w, 1),
            ("res", "same", 3, size // 4, 4 * w, 4 * w, 12),
            ("up1", "up", 3, size // 4, 4 * w, 2 * w, 1),
            ("up2", "up", 3, size // 2, 2 * w, w, 1),
            ("c7_out", "same", 7, size, w, channels, 1)]


# ----------------------------------------------------------------------------------------------
# jax forms
# ----------------------------------------------------------------------------------------------

def reflect(x, p):
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


def conv_valid_im2col(xp, k):
    """Stride-1 VALID correlation of padded xp [N, H+k-1, W+k-1, C] with HWIO k, one GEMM."""
    kh, kw, c, o = k.shape
    n, hp, wp, _ = xp.shape
    h, w = hp - kh + 1, wp - kw + 1
    views = [xp[:, a:a + h, b:b + w] for a in range(kh) for b in range(kw)]
    patches = jnp.concatenate(views, axis=-1).reshape(n * h * w, kh * kw * c)
    return jnp.dot(patches, k.reshape(kh * kw * c, o)).reshape(n, h, w, o)


def conv_valid_gemm_oa(xp, k):
    """The same, GEMM first ([N*Hp*Wp, C] @ [C, kh*kw*O]) then the taps overlap-added."""
    kh, kw, c, o = k.shape
    n, hp, wp, _ = xp.shape
    h, w = hp - kh + 1, wp - kw + 1
    y = jnp.dot(xp.reshape(n * hp * wp, c), k.transpose(2, 0, 1, 3).reshape(c, kh * kw * o))
    y = y.reshape(n, hp, wp, kh, kw, o)
    out = 0.0
    for a in range(kh):
        for b in range(kw):
            out = out + y[:, a:a + h, b:b + w, a, b]
    return out


WINOGRAD = {   # m: (B^T, G, A^T) of F(m x m, 3x3) (Lavin & Gray 2016)
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]),
        np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]]),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]])),
    4: (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]),
        np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                  [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]]))}


def _combine(matrix, parts):
    """[sum_i matrix[t, i] parts[i] for each row t], skipping zeros (XLA fuses the adds)."""
    out = []
    for row in matrix:
        acc = None
        for c, part in zip(row, parts):
            if c == 0:
                continue
            term = part if c == 1 else -part if c == -1 else float(c) * part
            acc = term if acc is None else acc + term
        out.append(acc)
    return out


def conv3x3_winograd(xp, k, m: int = 2):
    """Stride-1 VALID 3x3 correlation of xp [N, H+2, W+2, C] (H, W multiples of m) by Winograd
    F(m x m, 3x3): input tiles (m+2)^2 at stride m, B^T d B; filter G g G^T; (m+2)^2 batched
    GEMMs over channels [N*H*W/m^2, C] @ [C, O]; output A^T M A. m=2: 2.25x fewer multiplies
    than direct, m=4: 4x. Transforms are adds of strided views."""
    bt, g, at = WINOGRAD[m]
    a = m + 2
    n, hp, wp, c = xp.shape
    h, w, o = hp - 2, wp - 2, k.shape[-1]
    th, tw = h // m, w // m
    rows = _combine(bt, [xp[:, i:i + m * th:m] for i in range(a)])       # [N, th, Wp, C]
    d = []
    for r in rows:
        d += _combine(bt, [r[:, :, j:j + m * tw:m] for j in range(a)])  # [N, th, tw, C]
    d = jnp.stack(d).reshape(a * a, n * th * tw, c)
    u = jnp.einsum("ia,abco,jb->ijco", g.astype(np.float32), k,
                   g.astype(np.float32)).reshape(a * a, c, o)
    mm = jnp.einsum("pmk,pkn->pmn", d, u).reshape(a, a, n, th, tw, o)
    y = _combine(at, [mm[i] for i in range(a)])                           # m x [a, N, th, tw, O]
    y = [_combine(at, [yr[j] for j in range(a)]) for yr in y]             # m x m x [N, th, tw, O]
    y = jnp.stack([jnp.stack(yr, axis=3) for yr in y], axis=2)            # [N, th, m, tw, m, O]
    return y.reshape(n, h, w, o)


def conv_valid_taps(xp, k):
    """Stride-1 VALID correlation as k*k GEMMs [N*H*W, C] @ [C, O] summed (no im2col)."""
    kh, kw, c, o = k.shape
    n, hp, wp, _ = xp.shape
    h, w = hp - kh + 1, wp - kw + 1
    out = 0.0
    for a in range(kh):
        for b in range(kw):
            out = out + jnp.dot(xp[:, a:a + h, b:b + w].reshape(n * h * w, c), k[a, b])
    return out.reshape(n, h, w, o)


def conv_valid_gemm_oa_planes(xp, k):
    """gemm_oa with the taps outermost: Y = K^T [kh*kw*O, C] @ X^T [C, N*Hp*Wp], so each tap
    is a contiguous plane and the overlap-add is kh*kw shifted plane adds; NHWC at the end."""
    kh, kw, c, o = k.shape
    n, hp, wp, _ = xp.shape
    h, w = hp - kh + 1, wp - kw + 1
    y = jnp.einsum("tc,mc->tm", k.transpose(0, 1, 3, 2).reshape(kh * kw * o, c),
                   xp.reshape(n * hp * wp, c)).reshape(kh, kw, o, n, hp, wp)
    out = 0.0
    for a in range(kh):
        for b in range(kw):
            out = out + y[a, b, :, :, a:a + h, b:b + w]
    return out.transpose(1, 2, 3, 0)


@jax.custom_vjp
def conv_valid_oa_vjp(xp, k):
    """gemm_oa (GEMM first, overlap-add) with a hand-written backward: the output gradient's
    im2col dY [N*Hp*Wp, kh*kw*O] (kh*kw*O values per pixel: thin when O is), then
    dX = dY @ K and dK = X^T @ dY, two plain GEMMs (autodiff of the overlap-add instead pads
    and sums kh*kw full-size copies)."""
    return conv_valid_gemm_oa(xp, k)


def _oa_fwd(xp, k):
    return conv_valid_gemm_oa(xp, k), (xp, k)


def _oa_bwd(res, g):
    xp, k = res
    kh, kw, c, o = k.shape
    n, hp, wp, _ = xp.shape
    gp = jnp.pad(g, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    dy = jnp.stack([gp[:, kh - 1 - a:kh - 1 - a + hp, kw - 1 - b:kw - 1 - b + wp]
                    for a in range(kh) for b in range(kw)], axis=3)      # [N, Hp, Wp, kh*kw, O]
    dy = dy.reshape(n * hp * wp, kh * kw * o)
    kmat = k.transpose(2, 0, 1, 3).reshape(c, kh * kw * o)
    dx = jnp.dot(dy, kmat.T).reshape(xp.shape)
    dk = jnp.dot(xp.reshape(n * hp * wp, c).T, dy).reshape(c, kh, kw, o).transpose(1, 2, 0, 3)
    return dx, dk


conv_valid_oa_vjp.defvjp(_oa_fwd, _oa_bwd)


def conv_down_im2col(x, k):
    """Conv2d(C, O, 3, stride 2, padding 1), HWIO k, im2col + one GEMM (even sides)."""
    n, h, w, c = x.shape
    ho, wo = h // 2, w // 2
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    views = [xp[:, a:a + 2 * ho:2, b:b + 2 * wo:2] for a in range(3) for b in range(3)]
    patches = jnp.concatenate(views, axis=-1).reshape(n * ho * wo, 9 * c)
    return jnp.dot(patches, k.reshape(9 * c, -1)).reshape(n, ho, wo, -1)


def pad_to_4x4(k):
    return jnp.pad(k, ((0, 1), (0, 1), (0, 0), (0, 0)))


def conv_up_phases(x, k):
    """ConvTranspose2d(C, O, 3, stride 2, padding 1, output_padding 1) (HWIO k, unflipped):
    [N, H, W, C] -> [N, 2H, 2W, O]. Per axis, output 2u takes x[u] k[1]; output 2u + 1 takes
    x[u + 1] k[0] + x[u] k[2] (x[H] = 0). Four phases with 1, 2, 2, 4 taps: 9 in all."""
    n, h, w, c = x.shape
    o = k.shape[-1]
    xp = jnp.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    taps = {0: [(1, 0)], 1: [(0, 1), (2, 0)]}            # phase -> [(kernel index, shift)]
    out = []
    for r in (0, 1):
        row = []
        for s in (0, 1):
            views = [xp[:, dh:dh + h, dw:dw + w] for _, dh in taps[r] for _, dw in taps[s]]
            kk = jnp.concatenate([k[a, b] for a, _ in taps[r] for b, _ in taps[s]], axis=0)
            patches = jnp.concatenate(views, axis=-1).reshape(n * h * w, -1)
            row.append(jnp.dot(patches, kk).reshape(n, h, w, o))
        out.append(jnp.stack(row, axis=3))                # [N, H, W, 2 (s), O]
    return jnp.stack(out, axis=2).reshape(n, 2 * h, 2 * w, o)


def conv_up_phase_taps(x, k):
    """conv_up_phases with each phase's taps as separate GEMMs [N*H*W, C] @ [C, O] summed (no
    concatenated im2col)."""
    n, h, w, c = x.shape
    o = k.shape[-1]
    xp = jnp.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    taps = {0: [(1, 0)], 1: [(0, 1), (2, 0)]}
    out = []
    for r in (0, 1):
        row = []
        for s in (0, 1):
            acc = 0.0
            for a, dh in taps[r]:
                for b, dw in taps[s]:
                    acc = acc + jnp.dot(xp[:, dh:dh + h, dw:dw + w].reshape(n * h * w, c),
                                        k[a, b])
            row.append(acc.reshape(n, h, w, o))
        out.append(jnp.stack(row, axis=3))
    return jnp.stack(out, axis=2).reshape(n, 2 * h, 2 * w, o)


def jax_forms(kind: str, ksize: int, c_out: int = 64):
    """{form: f(x, k)} for a layer kind; `same` forms include the reflection padding."""
    p = ksize // 2
    if kind == "same":
        forms = {"xla": lambda x, k: lax.conv_general_dilated(reflect(x, p), k, (1, 1), "VALID",
                                                              dimension_numbers=DN),
                 "im2col": lambda x, k: conv_valid_im2col(reflect(x, p), k),
                 "gemm_oa": lambda x, k: conv_valid_gemm_oa(reflect(x, p), k)}
        forms["gan_jax"] = lambda x, k: choice.conv_valid(reflect(x, p), k, "fast")
        if ksize == 3 or c_out > 4:      # GEMM-first only where the output is thin
            del forms["gemm_oa"]
        if ksize == 3:
            forms["taps"] = lambda x, k: conv_valid_taps(reflect(x, p), k)
            forms["wino23"] = lambda x, k: conv3x3_winograd(reflect(x, p), k, 2)
            forms["wino43"] = lambda x, k: conv3x3_winograd(reflect(x, p), k, 4)
        elif c_out <= 4:
            forms["oa_planes"] = lambda x, k: conv_valid_gemm_oa_planes(reflect(x, p), k)
            forms["oa_vjp"] = lambda x, k: conv_valid_oa_vjp(reflect(x, p), k)
        return forms
    if kind == "down":
        return {"xla": lambda x, k: lax.conv_general_dilated(x, k, (2, 2), ((1, 1), (1, 1)),
                                                             dimension_numbers=DN),
                "im2col": conv_down_im2col,
                "as4x4_w": lambda x, k: strided_conv4x4(x, pad_to_4x4(k), "winograd"),
                "as4x4_g": lambda x, k: strided_conv4x4(x, pad_to_4x4(k), "gemm"),
                "gan_jax": lambda x, k: choice.strided_conv3x3(x, k, "fast")}
    return {"xla": lambda x, k: conv_transpose(x, k, 2, 1, 1, impl="xla"),
            "subpixel": lambda x, k: conv_transpose(x, k, 2, 1, 1, impl="subpixel"),
            "phases": conv_up_phases,
            "phase_taps": conv_up_phase_taps,
            "as4x4_w": lambda x, k: conv_transpose4x4(x, pad_to_4x4(k), "winograd"),
            "as4x4_g": lambda x, k: conv_transpose4x4(x, pad_to_4x4(k), "gemm"),
            "gan_jax": lambda x, k: choice.conv_transpose3x3(x, k, "fast")}


def median_ms(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def time_jax(f, x, k, reps):
    """(ms per forward+backward, the gradients (dx, dk) of sum(y^2))."""
    def loss(x, k):
        y = f(x, k)
        return jnp.sum(y * y)
    step = jax.jit(jax.grad(loss, argnums=(0, 1)))
    grads = jax.block_until_ready(step(x, k))
    return median_ms(lambda: jax.block_until_ready(step(x, k)), reps), grads


def relative_error(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


def torch_layer(kind: str, ksize: int):
    import torch.nn.functional as F
    p = ksize // 2
    if kind == "same":
        return lambda x, k: F.conv2d(F.pad(x, (p, p, p, p), mode="reflect"), k)
    if kind == "down":
        return lambda x, k: F.conv2d(x, k, stride=2, padding=1)
    return lambda x, k: F.conv_transpose2d(x, k, stride=2, padding=1, output_padding=1)


def time_torch(kind, ksize, x, k, reps):
    import torch
    xt = torch.tensor(np.asarray(x).transpose(0, 3, 1, 2), requires_grad=True)
    perm = (2, 3, 0, 1) if kind == "up" else (3, 2, 0, 1)   # ConvTranspose: [C_in, C_out, k, k]
    kt = torch.tensor(np.asarray(k).transpose(*perm), requires_grad=True)
    f = torch_layer(kind, ksize)

    def call():
        xt.grad = kt.grad = None
        y = f(xt, kt)
        (y * y).sum().backward()
    return median_ms(call, reps)


def check_forms(kind, ksize, x, k, forms) -> float:
    """Max |form - xla| / max |xla| of the forward over the forms and PyTorch (they must agree
    before they are timed; the gradients are compared after timing, `main`)."""
    ref = np.asarray(jax.jit(forms["xla"])(x, k))
    err = 0.0
    for name, f in forms.items():
        y = np.asarray(jax.jit(f)(x, k))
        assert y.shape == ref.shape, (name, y.shape, ref.shape)
        err = max(err, float(np.max(np.abs(y - ref)) / np.max(np.abs(ref))))
    import torch
    perm = (2, 3, 0, 1) if kind == "up" else (3, 2, 0, 1)
    with torch.no_grad():
        yt = torch_layer(kind, ksize)(torch.tensor(np.asarray(x).transpose(0, 3, 1, 2)),
                                      torch.tensor(np.asarray(k).transpose(*perm)))
    yt = yt.numpy().transpose(0, 2, 3, 1)
    return max(err, float(np.max(np.abs(yt - ref)) / np.max(np.abs(ref))))


def whole_generator(args, rng):
    """One G's forward+backward (sum(y^2) loss, to input and parameters, norms in training
    mode): gan_jax's resnet G from the registry, PyTorch's ResnetGenerator (style 'gan_jax')."""
    import torch
    from experiments.bench_cyclegan import generator_net
    from experiments.torch_cyclegan import ResnetGenerator, init_weights
    x = rng.standard_normal((args.batch, SIZE, SIZE, 3)).astype(np.float32)
    g = generator_net(args.width, args.batch)
    params = g.init(jax.random.key(0), x[:1], train=False)["params"]

    def loss(params, x):
        y = g.apply({"params": params}, x, train=True)
        return jnp.sum(y * y)
    step = jax.jit(jax.grad(loss, argnums=(0, 1)))
    xj = jnp.asarray(x)
    out = {"gan_jax": median_ms(lambda: jax.block_until_ready(step(params, xj)), args.reps)}
    gt = ResnetGenerator(3, 3, args.width, 6, style="gan_jax")
    init_weights(gt)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)

    def call():
        gt.zero_grad(set_to_none=True)
        xt.grad = None
        y = gt(xt)
        (y * y).sum().backward()
    out["torch"] = median_ms(call, args.reps)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--layers", default="", help="comma-separated names (default: all)")
    p.add_argument("--whole", action="store_true", help="also one whole G forward+backward")
    args = p.parse_args()
    import torch
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    chosen = set(args.layers.split(",")) if args.layers else None
    cols = ("xla", "im2col", "taps", "gemm_oa", "oa_planes", "oa_vjp", "wino23", "wino43",
            "subpixel", "phases", "phase_taps", "as4x4_w", "as4x4_g", "gan_jax")
    print(f"batch {args.batch}, width {args.width}, {SIZE}x{SIZE}; ms per forward+backward "
          f"(median of {args.reps}); load average {os.getloadavg()}")
    print("| layer | in | k | c_in->c_out | " + " | ".join(cols)
          + " | PyTorch | before / PyTorch | gan_jax now / PyTorch | best / PyTorch | "
          "6 x count per step: before / now / best / PyTorch (ms) |")
    print("|" + "---|" * (len(cols) + 9))
    totals = {"before": 0.0, "gan_jax now": 0.0, "best": 0.0, "torch": 0.0}
    for name, kind, ksize, side, c_in, c_out, count in cyclegan_layers(args.width):
        if chosen and name not in chosen:
            continue
        x = jnp.asarray(rng.standard_normal((args.batch, side, side, c_in)), jnp.float32)
        k = jnp.asarray(0.02 * rng.standard_normal((ksize, ksize, c_in, c_out)), jnp.float32)
        forms = jax_forms(kind, ksize, c_out)
        err = check_forms(kind, ksize, x, k, forms)
        assert err < 1e-4, (name, err)
        cells, grads = {}, {}
        for f, fn in forms.items():
            cells[f], grads[f] = time_jax(fn, x, k, args.reps)
        grad_err = max(relative_error(a, b) for f in forms
                       for a, b in zip(grads["xla"], grads[f]))
        assert grad_err < 1e-4, (name, grad_err)
        torch_ms = time_torch(kind, ksize, x, k, args.reps)
        best = min(cells, key=cells.get)
        per_step = 6 * count
        now, before = GAN_JAX_FORM[kind], BEFORE_FORM[kind]
        totals["before"] += per_step * cells[before]
        totals["gan_jax now"] += per_step * cells[now]
        totals["best"] += per_step * cells[best]
        totals["torch"] += per_step * torch_ms
        row = [f"{cells[c]:.1f}" + ("*" if c == best else "") if c in cells else "–"
               for c in cols]
        print(f"| {name} | {side}x{side} | {ksize} | {c_in}->{c_out} | " + " | ".join(row)
              + f" | {torch_ms:.1f} | {cells[before] / torch_ms:.2f} | "
              f"{cells[now] / torch_ms:.2f} | {cells[best] / torch_ms:.2f} | "
              f"{per_step * cells[before]:.0f} / {per_step * cells[now]:.0f} / "
              f"{per_step * cells[best]:.0f} / "
              f"{per_step * torch_ms:.0f} |", flush=True)
    print("per-step conv totals (ms, 6 x count x layer):",
          {k: round(v) for k, v in totals.items()})
    if args.whole:
        print("one G forward+backward (ms):", whole_generator(args, rng))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
