"""CycleGAN (Zhu, Park, Isola & Efros 2017): unpaired image-to-image translation with cycle
consistency, as a GANSpec (`gan.family='cyclegan'`).

Two generators G: A -> B and F: B -> A (`model.arch='resnet'`, `gan_jax.nets.resnet`) and two
PatchGAN discriminators (`model.patch`, 70 in the paper; `gan_jax.nets.patchgan`): D_A judges
domain-A images (real a against F(b)), D_B domain-B images (real b against G(a)). The variables
hold both networks of a player in each collection: `g = {'params': {'ab': G, 'ba': F}}`,
`d = {'params': {'a': D_A, 'b': D_B}}` (one optimizer per player, as the official code's one
Adam over both generators and one over both discriminators).

The objective (eq. 3, with the identity term of sec. 5.2):

    L = L_GAN(G, D_B) + L_GAN(F, D_A) + lambda (E|F(G(a)) - a|_1 + E|G(F(b)) - b|_1)
        + lambda_id lambda (E|G(b) - b|_1 + E|F(a) - a|_1)

with lambda = 10 (`cyclegan.lambda_cycle`), lambda_id = 0.5 (`cyclegan.lambda_identity`, 0 turns
it off: for tasks where colour must change; it needs A and B with the same channels), and the
adversarial pair from the loss zoo (`loss.name`; the paper's least squares: G minimises
E[(D(G(a)) - 1)^2], D minimises 1/2 (E[(D(b) - 1)^2] + E[D(fake)^2]): the paper halves D's
objective. The zoo's least-squares G loss carries a factor 1/2 (Mao et al.), so the family
weighs G's adversarial terms by 2 for that loss, to give the paper's balance against lambda).
`cyclegan.loss` picks the paper's ablation (Table 4): 'gan' (no cycle terms), 'cycle' (no
adversarial terms: D is not trained), 'gan+forward' (the cycle a -> b -> a only),
'gan+backward' (b -> a -> b only), 'full'.

D is trained on a history of fakes, an image pool of `cyclegan.pool_size` (50) per D
(`gan_jax.gans.image_pool`), per device, in `TrainState.extra`, checkpointed.

Update (the official code's order): one forward of both generators (fakes, reconstructions,
identities); G's step against the current D's, its gradient through the vjp of that forward;
then D_A's and D_B's step on the real images and the pool's answer to this step's fakes. Adam
2e-4, beta1 0.5 and the linear decay over the second half are optimizer options
(`optim.*.schedule='linear_decay'`).

Sampling: `sample(g, key, n, cond)` translates A-images `cond` with G; `reverse(g, key, n,
cond)` B-images with F. Pictures: a | G(a) | F(G(a)) and b | F(b) | G(F(b)) rows of held-out
images. Numbers (`gan_jax.evaluators.unpaired`): cycle L1 both ways, and the data's task scores
(digits_mnist: label preservation by the MNIST LeNet and the digits classifier, FID of G(a);
grass_gravel: the texture classifier's fraction judged as the target domain).
"""
import dataclasses

import jax
import jax.numpy as jnp
import ml_collections

from gan_jax import registry, snapshots
from gan_jax.errors import GanJaxError
from gan_jax.gans import adversarial, image_pool
from gan_jax.gans.spec import GANSpec
from gan_jax.gans.vanilla import apply_net

LOSSES = ("gan", "cycle", "gan+forward", "gan+backward", "full")
POOL_KEYS = {"a": 0xA, "b": 0xB}


def config_section():
    return ml_collections.ConfigDict(dict(
        loss="full",            # gan | cycle | gan+forward | gan+backward | full (Table 4)
        lambda_cycle=10.0,      # lambda: the weight of each cycle-consistency term
        lambda_identity=0.5,    # identity weight, relative to lambda (0: off)
        pool_size=50))          # fakes kept per discriminator (0: no pool)


def parse_loss(name: str):
    """(adversarial, forward cycle, backward cycle) of a cyclegan.loss name."""
    if name not in LOSSES:
        raise GanJaxError(f"unknown cyclegan.loss {name!r}; valid: {LOSSES}")
    if name == "full":
        return True, True, True
    if name == "cycle":
        return False, True, True
    return True, name in ("gan+forward",), name in ("gan+backward",)


def split_nets(variables, names):
    """{collection: {net: tree}} -> {net: {collection: tree}}."""
    return {n: {col: trees[n] for col, trees in variables.items()} for n in names}


def join_nets(parts):
    """{net: {collection: tree}} -> {collection: {net: tree}} (the inverse of split_nets)."""
    out = {}
    for name, variables in parts.items():
        for col, tree in variables.items():
            out.setdefault(col, {})[name] = tree
    return out


def make_spec(config, data) -> GANSpec:
    if "a" not in data.fields or "b" not in data.fields:
        raise GanJaxError(f"cyclegan translates between two image domains (batch fields 'a', "
                          f"'b'); the data {data.name!r} has {data.fields}: use digits_mnist, "
                          "grass_gravel, cycle_gan or unpaired_folder")
    if config.model.arch != "resnet":
        raise GanJaxError(f"cyclegan's generators (model.arch) are 'resnet', got "
                          f"{config.model.arch!r}")
    if config.train.d_steps != 1:
        raise GanJaxError(f"cyclegan alternates one G and one D step (the paper); "
                          f"train.d_steps={config.train.d_steps} must be 1")
    c = config.cyclegan
    for key in ("lambda_cycle", "lambda_identity", "pool_size"):
        if c[key] < 0:
            raise GanJaxError(f"cyclegan.{key}={c[key]} must be >= 0")
    if c.lambda_identity > 0 and data.shape_of("a") != data.shape_of("b"):
        raise GanJaxError(f"cyclegan.lambda_identity={c.lambda_identity} feeds B-images to G "
                          f"(A -> B), which needs A and B of one shape; got "
                          f"{data.shape_of('a')} and {data.shape_of('b')}: set it to 0")
    generators = {d: registry.generator("resnet", config, data, direction=d)
                  for d in ("ab", "ba")}
    discriminator = registry.discriminator("patchgan", config, data)
    adv = adversarial.from_config(config.loss, registry.has_batch_norm("patchgan", config, "d"))
    spec = make_cyclegan(generators, discriminator, adv, parse_loss(c.loss),
                         lambda_cycle=float(c.lambda_cycle),
                         lambda_identity=float(c.lambda_identity), pool_size=int(c.pool_size),
                         adv_scale=2.0 if config.loss.name == "least_squares" else 1.0)
    return _with_pictures_and_numbers(spec, config, data)


def make_cyclegan(generators, discriminator, adv, terms=(True, True, True), *,
                  lambda_cycle=10.0, lambda_identity=0.5, pool_size=50,
                  adv_scale=1.0) -> GANSpec:
    """The GANSpec of generators {'ab': G, 'ba': F} and one discriminator module (used with
    separate variables for D_A and D_B)."""
    adversary, forward_cycle, backward_cycle = terms
    identity = lambda_identity > 0

    def generate(g_variables, direction, x, train):
        return apply_net(generators[direction], g_variables[direction], x, train)

    def translations(g_variables, batch, train=True):
        """(outputs, updates): every G / F image the losses use, from one pass of each."""
        nets = split_nets(g_variables, ("ab", "ba"))
        out, updates = {}, {}

        def run(name, direction, x):
            y, upd = generate(nets, direction, x, train)
            if upd:
                nets[direction] = {**nets[direction], **upd}
                updates[direction] = upd
            out[name] = y
            return y

        fake_b = run("fake_b", "ab", batch["a"])
        fake_a = run("fake_a", "ba", batch["b"])
        if forward_cycle:
            run("rec_a", "ba", fake_b)
        if backward_cycle:
            run("rec_b", "ab", fake_a)
        if identity:
            run("idt_b", "ab", batch["b"])
            run("idt_a", "ba", batch["a"])
        return out, join_nets(updates)

    def g_objective(d_variables, batch, out):
        """(G's loss, metrics) for the generators' outputs `out`."""
        metrics, loss = {}, 0.0
        if adversary:
            nets = split_nets(d_variables, ("a", "b"))
            g_adv = 0.0
            for domain, fake in (("b", out["fake_b"]), ("a", out["fake_a"])):
                logits, _ = apply_net(discriminator, nets[domain], fake, True)
                term = adv_scale * adversarial.g_objective(adv, logits)
                metrics[f"g_adv_{domain}"] = term
                g_adv = g_adv + term
            metrics["g_adv"] = g_adv
            loss = loss + g_adv
        cycle = 0.0
        for domain, on in (("a", forward_cycle), ("b", backward_cycle)):
            if on:
                l1 = jnp.mean(jnp.abs(out[f"rec_{domain}"] - batch[domain]))
                metrics[f"cycle_{domain}"] = l1
                cycle = cycle + l1
        if forward_cycle or backward_cycle:
            metrics["cycle"] = cycle
            loss = loss + lambda_cycle * cycle
        if identity:
            idt = 0.0
            for domain in ("a", "b"):
                l1 = jnp.mean(jnp.abs(out[f"idt_{domain}"] - batch[domain]))
                metrics[f"identity_{domain}"] = l1
                idt = idt + l1
            loss = loss + lambda_identity * lambda_cycle * idt
        return loss, {"g_loss": loss, **metrics}

    def init(key, batch):
        k = jax.random.split(key, 4)
        g = {"ab": generators["ab"].init(k[0], batch["a"], train=False),
             "ba": generators["ba"].init(k[1], batch["b"], train=False)}
        d = {"a": discriminator.init(k[2], batch["a"], train=False),
             "b": discriminator.init(k[3], batch["b"], train=False)}
        return {"g": join_nets(g), "d": join_nets(d)}

    def init_extra(key, batch):
        del key
        return {domain: image_pool.empty_pool(pool_size, batch[domain].shape[1:])
                for domain in ("a", "b")}

    def g_loss(variables, batch, key):
        out, upd = translations(variables["g"], batch)
        loss, metrics = g_objective(variables["d"], batch, out)
        return loss, {"metrics": metrics, "updates": {"g": upd}}

    def d_loss(variables, batch, key):
        """D_A's and D_B's losses (summed: their parameters are disjoint) on the real images and
        the pools' answers to this step's fakes (batch['fake_a'], ['fake_b'] where the step
        computed them)."""
        if "fake_a" in batch:
            fakes = {"a": batch["fake_a"], "b": batch["fake_b"]}
        else:
            out, _ = translations(variables["g"], batch)
            fakes = {"a": out["fake_a"], "b": out["fake_b"]}
        pools = variables["extra"]
        nets = split_nets(variables["d"], ("a", "b"))
        loss, metrics, updates, new_pools = 0.0, {}, {}, {}
        for domain in ("a", "b"):
            fake = jax.lax.stop_gradient(fakes[domain])
            if pools is not None:
                fake, new_pools[domain] = image_pool.query(
                    pools[domain], fake, jax.random.fold_in(key, POOL_KEYS[domain]),
                    batch["index"])

            def d_fn(d_variables, x):
                return apply_net(discriminator, d_variables, x, True)

            l, m, upd = adversarial.d_objective(adv, d_fn, nets[domain], batch[domain], fake,
                                                jax.random.fold_in(key, POOL_KEYS[domain] + 1),
                                                batch["index"])
            loss = loss + l
            metrics.update({f"{k}_{domain}": v for k, v in m.items()})
            if upd:
                updates[domain] = upd
        aux = {"metrics": {"d_loss": loss, **metrics}, "updates": {"d": join_nets(updates)}}
        if pools is not None:
            aux["state"] = new_pools
        return loss, aux

    def update(play, game, batch, key):
        """G's step (through the vjp of one forward of both generators), then D's on this
        forward's fakes; with cyclegan.loss='cycle', G's step only."""
        minibatch = jax.tree.map(lambda x: x[-1], batch)
        g_vars = game["g"]

        def forward(params):
            return translations({**g_vars, "params": params}, minibatch)

        out, pullback, g_updates = jax.vjp(forward, g_vars["params"], has_aux=True)
        (_, g_metrics), d_out = jax.value_and_grad(
            lambda o: g_objective(game["d"], minibatch, o), has_aux=True)(out)
        aux = {"metrics": g_metrics, "updates": {"g": g_updates}}
        game, g_metrics = play("g", game, minibatch, key, grads=(pullback(d_out)[0], aux))
        if not adversary:
            return game, g_metrics
        game, d_metrics = play("d", game, {**minibatch, "fake_a": out["fake_a"],
                                           "fake_b": out["fake_b"]}, key)
        return game, {**g_metrics, **d_metrics}

    def translate(direction):
        def sample(g_variables, key, n: int, cond=None):
            del key                     # the generators are deterministic
            if cond is None:
                raise GanJaxError("cyclegan translates inputs: sample(g, key, n, cond) needs "
                                  "the input images cond [n, H, W, C] in [-1, 1]")
            cond = jnp.asarray(cond, jnp.float32)
            if cond.shape[0] != n:
                raise GanJaxError(f"cyclegan: {n} samples asked for {cond.shape[0]} inputs")
            nets = split_nets(g_variables, ("ab", "ba"))
            return generators[direction].apply(nets[direction], cond, train=False)
        return sample

    def discriminate(d_variables, x, cond=None):
        return discriminator.apply(split_nets(d_variables, ("a", "b"))["b"], x, train=False)

    progress = ("d_loss", "g_adv", "cycle") if adversary else ("cycle",)
    if not (forward_cycle or backward_cycle):
        progress = ("d_loss", "g_adv")
    return GANSpec(init=init, d_loss=d_loss, g_loss=g_loss, sample=translate("ab"),
                   reverse=translate("ba"), update=update, discriminate=discriminate,
                   init_extra=init_extra if adversary and pool_size > 0 else None,
                   d_constraint=adversarial.clip_weights(adv), progress=progress,
                   cond_kind="image")


def _with_pictures_and_numbers(spec, config, data):
    from gan_jax.evaluators.unpaired import cycle_plan, held_out_domains

    def domains():
        return held_out_domains(config)

    def pictures(seed):
        return snapshots.CycleGrid(spec, seed, domains)

    def evaluators(context):
        return cycle_plan(context, spec, data)

    return dataclasses.replace(spec, snapshots=pictures, evaluators=evaluators)
