"""Pix2Pix (Isola, Zhu, Zhou & Efros 2017), image-to-image translation with a conditional GAN,
as a GANSpec (`gan.family='pix2pix'`).

G maps an input image x (batch field 'a') to an output G(x) shaped like the target y ('b'); D
judges patches of concat(x, image). The objective (eq. 4) is

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G),     L_L1 = E |y - G(x)|_1,

with lambda = 100 (`pix2pix.lambda_l1`) and the adversarial pair from the loss zoo (`loss.name`:
the original non-saturating loss, the paper's; least squares for the official code's LSGAN
option). `pix2pix.loss` picks the paper's ablation (Table 1): 'l1' (no D at all), 'gan' (D sees
the output only), 'cgan' (D sees input and output), 'l1+gan', 'l1+cgan' (the paper's model).

Networks: G from `model.arch` ('unet', or 'encoder_decoder' for the ablation;
`gan_jax.nets.unet`), D the PatchGAN of `model.patch` (receptive field 1, 16, 34, 70, 142, 286;
`gan_jax.nets.patchgan`), both normalised by `model.norm` (batch: the paper with batch 1;
instance). G's noise is its dropout (`model.dropout`), on in training with masks from
fold_in(key, index) per example; at test time off, or on with `model.test_dropout` (the paper),
its masks from the sampling key.

Update (the official code's step): one forward G(x) with the step's dropout masks; D takes one
step on the real pair and on G(x), then G one step against the updated D, its gradient through
the vjp of that same forward (no second forward). With `pix2pix.loss='l1'` only G is updated. Adam 2e-4, beta1 0.5, and the
learning rate's linear decay in the second half of the run are optimizer options
(`optim.*.schedule='linear_decay'`).

Sampling: `sample(g, key, n, cond)` translates the inputs `cond` [n, H, W, C_a] in [-1, 1] (there
is no latent space; `cond` is required). Pictures: input | output | target rows of held-out
pairs. Numbers: the data's task scores (`gan_jax.evaluators.translation`): on digit_scenes the
FCN-score analogue (per-digit LeNet accuracy at the layout's boxes) and per-pixel L1; on photos
L1, PSNR and SSIM; always computed on the held-out pairs' inputs in order.
"""
import dataclasses

import jax
import jax.numpy as jnp
import ml_collections

from gan_jax import registry, snapshots
from gan_jax.errors import GanJaxError
from gan_jax.gans import adversarial
from gan_jax.gans.spec import GANSpec
from gan_jax.gans.vanilla import apply_net

LOSSES = ("l1", "gan", "cgan", "l1+gan", "l1+cgan")
GENERATORS = ("unet", "encoder_decoder")


def config_section():
    return ml_collections.ConfigDict(dict(
        loss="l1+cgan",        # l1 | gan | cgan | l1+gan | l1+cgan (the paper's Table 1)
        lambda_l1=100.0))      # the weight of the L1 term


def parse_loss(name: str):
    """(uses L1, adversarial: None | 'gan' | 'cgan') of a pix2pix.loss name."""
    if name not in LOSSES:
        raise GanJaxError(f"unknown pix2pix.loss {name!r}; valid: {LOSSES}")
    parts = name.split("+")
    adversary = next((p for p in parts if p in ("gan", "cgan")), None)
    return "l1" in parts, adversary


def example_keys(key, index):
    """One key per example, fold_in(key, index_i): the dropout masks of example i."""
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(index.astype(jnp.uint32))


def make_spec(config, data) -> GANSpec:
    if "a" not in data.fields or "b" not in data.fields:
        raise GanJaxError(f"pix2pix translates image pairs (batch fields 'a' -> 'b'); the data "
                          f"{data.name!r} has {data.fields}: use digit_scenes, photo_edges, "
                          "photo_colour or paired_folder")
    if config.model.arch not in GENERATORS:
        raise GanJaxError(f"pix2pix's generator (model.arch) is one of {GENERATORS}, got "
                          f"{config.model.arch!r}")
    if config.train.d_steps != 1:
        raise GanJaxError(f"pix2pix alternates one D and one G step (the paper); "
                          f"train.d_steps={config.train.d_steps} must be 1")
    generator = registry.generator(config.model.arch, config, data)
    discriminator = registry.discriminator("patchgan", config, data)
    use_l1, adversary = parse_loss(config.pix2pix.loss)
    adv = adversarial.from_config(config.loss, registry.has_batch_norm("patchgan", config, "d"))
    spec = make_pix2pix(generator, discriminator, adv, use_l1=use_l1, adversary=adversary,
                        lambda_l1=float(config.pix2pix.lambda_l1),
                        test_dropout=bool(config.model.test_dropout))
    return _with_pictures_and_numbers(spec, config, data)


def make_pix2pix(generator, discriminator, adv, *, use_l1=True, adversary="cgan",
                 lambda_l1=100.0, test_dropout=False) -> GANSpec:
    """The GANSpec of a generator (called `(a, train, noise_keys)`) and a patch discriminator."""
    if not use_l1 and adversary is None:
        raise GanJaxError("pix2pix needs an L1 term, an adversarial term or both")

    def d_input(a, image):
        return jnp.concatenate([a, image], axis=-1) if adversary == "cgan" else image

    def translate(g_variables, batch, key, train=True):
        return apply_net(generator, g_variables, batch["a"], train,
                         noise_keys=example_keys(key, batch["index"]))

    def init(key, batch):
        k_g, k_d = jax.random.split(key)
        return {"g": generator.init(k_g, batch["a"], train=False),
                "d": discriminator.init(k_d, d_input(batch["a"], batch["b"]), train=False)}

    def d_loss(variables, batch, key):
        """D's loss on the real pair and on G(x) (batch['fake'] where the step computed it)."""
        fake = batch["fake"] if "fake" in batch else translate(variables["g"], batch, key)[0]

        def d_apply(d_variables, image):
            return apply_net(discriminator, d_variables, d_input(batch["a"], image), True)

        loss, metrics, upd = adversarial.d_objective(adv, d_apply, variables["d"], batch["b"],
                                                     jax.lax.stop_gradient(fake), key,
                                                     batch["index"])
        return loss, {"metrics": metrics, "updates": {"d": upd}}

    def g_objective(d_variables, batch, fake):
        """(G's loss, metrics) for its output `fake`: lambda L1 + the adversarial term."""
        l1 = jnp.mean(jnp.abs(fake - batch["b"]))
        metrics = {"g_l1": l1}
        loss = lambda_l1 * l1 if use_l1 else 0.0
        if adversary is not None:
            logits, _ = apply_net(discriminator, d_variables, d_input(batch["a"], fake), True)
            g_adv = adversarial.g_objective(adv, logits)
            metrics["g_adv"] = g_adv
            loss = loss + g_adv
        return loss, {"g_loss": loss, **metrics}

    def g_loss(variables, batch, key):
        fake, upd = translate(variables["g"], batch, key)
        loss, metrics = g_objective(variables["d"], batch, fake)
        return loss, {"metrics": metrics, "updates": {"g": upd}}

    def update(play, game, batch, key):
        """The official code's step: one G forward G(x); D's step on the real pair and G(x);
        then G's step against the updated D, its gradient through the vjp of that same forward
        (the same dropout masks, no second forward). With no adversarial term, G's step only."""
        minibatch = jax.tree.map(lambda x: x[-1], batch)
        g_vars = game["g"]

        def forward(params):
            return translate({**g_vars, "params": params}, minibatch, key)

        fake, pullback, g_updates = jax.vjp(forward, g_vars["params"], has_aux=True)
        metrics = {}
        if adversary is not None:
            game, metrics = play("d", game, {**minibatch, "fake": fake}, key)
        (_, g_metrics), d_fake = jax.value_and_grad(
            lambda f: g_objective(game["d"], minibatch, f), has_aux=True)(fake)
        aux = {"metrics": g_metrics, "updates": {"g": g_updates}}
        game, g_metrics = play("g", game, minibatch, key, grads=(pullback(d_fake)[0], aux))
        return game, {**metrics, **g_metrics}

    def sample(g_variables, key, n: int, cond=None):
        if cond is None:
            raise GanJaxError("pix2pix translates inputs: sample(g, key, n, cond) needs the "
                              "input images cond [n, H, W, C] in [-1, 1]")
        cond = jnp.asarray(cond, jnp.float32)
        if cond.shape[0] != n:
            raise GanJaxError(f"pix2pix: {n} samples asked for {cond.shape[0]} inputs")
        keys = example_keys(key, jnp.arange(n)) if test_dropout else None
        return generator.apply(g_variables, cond, train=False, noise_keys=keys)

    def discriminate(d_variables, x, cond=None):
        return discriminator.apply(d_variables, d_input(cond, x), train=False)

    progress = ("d_loss", "g_l1") if adversary else ("g_l1",)
    return GANSpec(init=init, d_loss=d_loss, g_loss=g_loss, sample=sample, update=update,
                   discriminate=discriminate, d_constraint=adversarial.clip_weights(adv),
                   progress=progress, cond_kind="image")


def _with_pictures_and_numbers(spec, config, data):
    from gan_jax.evaluators.translation import held_out_pairs, translation_plan

    def pairs():
        return held_out_pairs(config)

    def pictures(seed):
        return snapshots.TranslationGrid(spec, seed, pairs)

    def evaluators(context):
        return translation_plan(context, data)

    return dataclasses.replace(spec, snapshots=pictures, evaluators=evaluators)
