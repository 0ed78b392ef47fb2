"""Inpainting with a context encoder (Pathak, Krahenbuhl, Donahue, Darrell & Efros 2016) as a
GANSpec (`gan.family='inpaint'`).

A mask M (1 = missing; `gan_jax.data.masks`) hides part of an image x; G sees the masked image
(1 - M) * x and M as an extra channel and predicts every pixel; the filled image keeps the
known pixels, x_hat = (1 - M) * x + M * G(...). The objective (the paper's eq. 1-3) is

    L = lambda_rec * L_rec + lambda_adv * L_adv,    L_rec = |M * (x - G((1 - M) * x, M))|^2,

L_rec the mean squared error over the missing pixels (of each image, then over the batch, so n
devices compute the 1-device loss), L_adv G's adversarial loss from the loss zoo (`loss.name`;
the paper's non-saturating GAN loss); lambda_rec 0.999, lambda_adv 0.001 (the paper's;
`inpaint.lambda_rec`, `inpaint.lambda_adv`). `inpaint.lambda_adv=0` is the L2-only baseline
(no D is trained).

D judges (`inpaint.d_region`) 'hole': the filled region (for the centre square its crop, the
paper's; for other masks the fill alone, M * image, with M as an extra channel) or 'image': the
whole filled image. Real examples are the same region of the real image.

Masks (`inpaint.mask`, `inpaint.mask_size`): 'centre' (a square, the paper's 64 of 128),
'rectangles', 'strokes' (free-form); in training example i's is drawn from fold_in(fold_in(key,
MASK_KEY), index_i), new at every step.

Update (as Pix2Pix): one forward of G with the step's masks; D's step on the real region and the
filled one; then G's step against the updated D through the vjp of that same forward.

Sampling: `sample(g, key, n, cond)` fills `cond`, required: images [n, H, W, C] in [-1, 1]
(masks drawn from the key per `inpaint.mask`, example j's from fold_in(fold_in(key, MASK_KEY),
j)), or images with their mask as one more channel [n, H, W, C + 1] (a user's mask: 1 =
missing). It returns the filled images [n, H, W, C]. Pictures: masked | filled | original rows
of held-out images; numbers: hole L1 / PSNR / SSIM and, on MNIST, the LeNet's accuracy on the
filled, masked and original digits (`gan_jax.evaluators.inpainting`).
"""
import dataclasses

import jax
import jax.numpy as jnp
import ml_collections

from gan_jax import registry
from gan_jax.data import masks as mask_lib
from gan_jax.errors import GanJaxError
from gan_jax.gans import adversarial
from gan_jax.gans.spec import GANSpec
from gan_jax.gans.vanilla import apply_net

REGIONS = ("hole", "image")
NETS = ("context_encoder",)
MASK_KEY = 0x3A5C          # folded into a step's (or a sampling) key for the masks


def config_section():
    return ml_collections.ConfigDict(dict(
        lambda_rec=0.999,       # weight of the masked L2 reconstruction (the paper's)
        lambda_adv=0.001,       # weight of G's adversarial loss (the paper's; 0: L2 only, no D)
        mask="centre",          # centre | rectangles | strokes (gan_jax.data.masks)
        mask_size=0,            # centre: the square's side; rectangles: the largest side;
                                # strokes: the largest brush width (0: side/2, side/2, side/8)
        d_region="hole"))       # hole (the filled region, the paper's) | image (the whole image)


def check_options(section, shape):
    """The inpaint section checked against the images' (H, W, C); returns the mask size."""
    mask_lib.check_kind(section.mask)
    if section.d_region not in REGIONS:
        raise GanJaxError(f"unknown inpaint.d_region {section.d_region!r}; valid: {REGIONS}")
    for key in ("lambda_rec", "lambda_adv"):
        if section[key] < 0:
            raise GanJaxError(f"inpaint.{key}={section[key]} must be >= 0")
    if section.lambda_rec == 0 and section.lambda_adv == 0:
        raise GanJaxError("inpaint.lambda_rec and inpaint.lambda_adv are both 0: nothing to learn")
    return mask_lib.resolve_size(section.mask, tuple(shape[:2]), int(section.mask_size))


def make_spec(config, data) -> GANSpec:
    if data.kind != "image" or "x" not in data.fields:
        raise GanJaxError(f"inpainting fills holes in images (batch field 'x'); the data "
                          f"{data.name!r} is {data.kind} with fields {data.fields}: use an "
                          "image data set (mnist_offline, photo_crops, cifar10, ...)")
    if config.model.arch not in NETS:
        raise GanJaxError(f"inpaint's networks (model.arch) are one of {NETS}, got "
                          f"{config.model.arch!r}")
    if config.train.d_steps != 1:
        raise GanJaxError(f"inpaint alternates one D and one G step; train.d_steps="
                          f"{config.train.d_steps} must be 1")
    shape = data.shape_of("x")
    size = check_options(config.inpaint, shape)
    generator = registry.generator(config.model.arch, config, data)
    discriminator = registry.discriminator(config.model.arch, config, data)
    adv = adversarial.from_config(config.loss,
                                  registry.has_batch_norm(config.model.arch, config, "d"))
    spec = make_inpaint(generator, discriminator, adv, shape, mask=config.inpaint.mask,
                        mask_size=size, d_region=config.inpaint.d_region,
                        lambda_rec=float(config.inpaint.lambda_rec),
                        lambda_adv=float(config.inpaint.lambda_adv))
    return _with_pictures_and_numbers(spec, config)


def make_inpaint(generator, discriminator, adv, shape, *, mask="centre", mask_size=0,
                 d_region="hole", lambda_rec=0.999, lambda_adv=0.001) -> GANSpec:
    """The GANSpec of a generator `(masked image ++ mask, train)` -> image and a discriminator
    for images of `shape` (H, W, C)."""
    hw = tuple(shape[:2])
    mask_size = mask_lib.resolve_size(mask, hw, mask_size)
    adversary = lambda_adv > 0
    box = mask_lib.centre_box(hw, mask_size) if mask == "centre" else None

    def draw_masks(key, index):
        return mask_lib.draw(mask, jax.random.fold_in(key, MASK_KEY), index, hw, mask_size)

    def g_input(images, masks):
        return jnp.concatenate([mask_lib.hide(images, masks), masks], axis=-1)

    def composite(images, masks, prediction):
        return images * (1.0 - masks) + prediction * masks

    def d_input(image, masks):
        """What D sees of a real or filled image (`inpaint.d_region`)."""
        if d_region == "image":
            return image
        if box is not None:                         # the centre square: its crop (the paper)
            top, left, side = box
            return image[:, top:top + side, left:left + side]
        return jnp.concatenate([image * masks, masks], axis=-1)

    def predict(g_variables, batch, train=True):
        """(G's prediction of every pixel, G's new statistics) for batch['x'], batch['mask']."""
        return apply_net(generator, g_variables, g_input(batch["x"], batch["mask"]), train)

    def with_masks(batch, key):
        return batch if "mask" in batch else {**batch, "mask": draw_masks(key, batch["index"])}

    def init(key, batch):
        k_g, k_d = jax.random.split(key)
        x = batch["x"]
        m = draw_masks(key, batch["index"])
        return {"g": generator.init(k_g, g_input(x, m), train=False),
                "d": discriminator.init(k_d, d_input(x, m), train=False)}

    def d_loss(variables, batch, key):
        """D's loss on the real region and the filled one (batch['fake'] where the step
        computed it)."""
        batch = with_masks(batch, key)
        m = batch["mask"]
        if "fake" in batch:
            fake = batch["fake"]
        else:
            fake = composite(batch["x"], m, predict(variables["g"], batch)[0])

        def d_apply(d_variables, image):
            return apply_net(discriminator, d_variables, d_input(image, m), True)

        loss, metrics, upd = adversarial.d_objective(adv, d_apply, variables["d"], batch["x"],
                                                     jax.lax.stop_gradient(fake), key,
                                                     batch["index"])
        return loss, {"metrics": metrics, "updates": {"d": upd}}

    def g_objective(d_variables, batch, prediction):
        """(G's loss, metrics) for its prediction: lambda_rec L_rec + lambda_adv L_adv."""
        m, x = batch["mask"], batch["x"]
        per_image = jnp.sum(m * (prediction - x) ** 2, axis=(1, 2, 3)) / jnp.maximum(
            jnp.sum(m, axis=(1, 2, 3)) * x.shape[-1], 1.0)
        rec = jnp.mean(per_image)
        metrics = {"g_rec": rec}
        loss = lambda_rec * rec
        if adversary:
            logits, _ = apply_net(discriminator, d_variables,
                                  d_input(composite(x, m, prediction), m), True)
            g_adv = adversarial.g_objective(adv, logits)
            metrics["g_adv"] = g_adv
            loss = loss + lambda_adv * g_adv
        return loss, {"g_loss": loss, **metrics}

    def g_loss(variables, batch, key):
        batch = with_masks(batch, key)
        prediction, upd = predict(variables["g"], batch)
        loss, metrics = g_objective(variables["d"], batch, prediction)
        return loss, {"metrics": metrics, "updates": {"g": upd}}

    def update(play, game, batch, key):
        """One G forward with the step's masks; D's step on the real and the filled region;
        then G's step against the updated D through the vjp of that forward. With
        lambda_adv = 0 (the L2 baseline) G's step only."""
        minibatch = with_masks(jax.tree.map(lambda x: x[-1], batch), key)
        g_vars = game["g"]

        def forward(params):
            return predict({**g_vars, "params": params}, minibatch)

        prediction, pullback, g_updates = jax.vjp(forward, g_vars["params"], has_aux=True)
        metrics = {}
        if adversary:
            fake = composite(minibatch["x"], minibatch["mask"], prediction)
            game, metrics = play("d", game, {**minibatch, "fake": fake}, key)
        (_, g_metrics), d_prediction = jax.value_and_grad(
            lambda p: g_objective(game["d"], minibatch, p), has_aux=True)(prediction)
        aux = {"metrics": g_metrics, "updates": {"g": g_updates}}
        game, g_metrics = play("g", game, minibatch, key, grads=(pullback(d_prediction)[0], aux))
        return game, {**metrics, **g_metrics}

    def split_cond(key, n, cond):
        """(images [n, H, W, C], masks [n, H, W, 1]) of a sampling `cond`."""
        if cond is None:
            raise GanJaxError("inpaint fills images: sample(g, key, n, cond) needs the images "
                              f"cond [n, {hw[0]}, {hw[1]}, {shape[-1]}] in [-1, 1] (or with "
                              "their mask as one more channel, 1 = missing)")
        cond = jnp.asarray(cond, jnp.float32)
        channels = shape[-1]
        if cond.ndim != 4 or tuple(cond.shape[1:3]) != hw or cond.shape[-1] not in (
                channels, channels + 1):
            raise GanJaxError(f"inpaint: cond must be images [n, {hw[0]}, {hw[1]}, {channels}] "
                              f"or images with a mask channel [n, {hw[0]}, {hw[1]}, "
                              f"{channels + 1}], got {tuple(cond.shape)}")
        if cond.shape[0] != n:
            raise GanJaxError(f"inpaint: {n} samples asked for {cond.shape[0]} images")
        if cond.shape[-1] == channels + 1:
            return cond[..., :channels], cond[..., channels:]
        return cond, draw_masks(key, jnp.arange(n))

    def sample(g_variables, key, n: int, cond=None):
        images, m = split_cond(key, n, cond)
        prediction = generator.apply(g_variables, g_input(images, m), train=False)
        return composite(images, m, prediction)

    def discriminate(d_variables, x, cond=None):
        """D's logits for images x [n, H, W, C] with their masks cond [n, H, W, 1]."""
        m = jnp.ones(x.shape[:-1] + (1,), x.dtype) if cond is None else cond
        return discriminator.apply(d_variables, d_input(x, m), train=False)

    progress = ("d_loss", "g_rec") if adversary else ("g_rec",)
    return GANSpec(init=init, d_loss=d_loss, g_loss=g_loss, sample=sample, update=update,
                   discriminate=discriminate, d_constraint=adversarial.clip_weights(adv),
                   progress=progress, cond_kind="image")


def _with_pictures_and_numbers(spec, config):
    from gan_jax.evaluators import inpainting

    def pictures(seed):
        return inpainting.InpaintGrid(spec, lambda: inpainting.held_out(config))

    def evaluators(context):
        return inpainting.inpainting_plan(context)

    return dataclasses.replace(spec, snapshots=pictures, evaluators=evaluators)
