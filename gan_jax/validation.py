"""The whole config checked up front, before anything is built or written.

`validate_config(config)` collects every problem it finds (a key, its value and the valid
range or names) and raises one GanJaxError listing them all, so a run that cannot work fails
before its workdir is touched. What needs the data or the networks to check (a data set that is
not prepared, an image size a network does not support) fails when the run is built, which the
trainer also does before writing anything.
"""
import difflib

from gan_jax.errors import GanJaxError


def _names(config):
    """{key: (value, valid names)} for the keys that name a choice."""
    from gan_jax import losses, registry
    from gan_jax.data.augment import AUGMENTATIONS
    from gan_jax.data.catalog import all_datasets
    from gan_jax.train.optimizers import OPTIMIZERS, SCHEDULES
    from gan_jax.train.parallel import MAPPERS
    out = {"gan.family": (config.gan.family, sorted(registry.FAMILIES)),
           "model.arch": (config.model.arch, sorted(registry.NETS)),
           "loss.name": (config.loss.name, sorted(losses.LOSSES)),
           "train.mapper": (config.train.mapper, list(MAPPERS)),
           "data.name": (config.data.name, all_datasets()),
           "data.augment": (config.data.augment, sorted(AUGMENTATIONS)),
           "model.latent_distribution": (config.model.latent_distribution, ["normal", "uniform"]),
           "eval.features": (config.eval.features, ["auto", "mnist", "inception"]),
           "model.norm": (config.model.norm, ["batch", "instance", "none"]),
           "model.patch": (config.model.patch, [1, 16, 34, 70, 142, 286]),
           "data.direction": (config.data.direction, ["AtoB", "BtoA"])}
    if "pix2pix" in config:
        from gan_jax.gans.pix2pix import LOSSES
        out["pix2pix.loss"] = (config.pix2pix.loss, list(LOSSES))
    if "cyclegan" in config:
        from gan_jax.gans.cyclegan import LOSSES as CYCLE_LOSSES
        out["cyclegan.loss"] = (config.cyclegan.loss, list(CYCLE_LOSSES))
    for player in ("g", "d"):
        o = config.optim[player]
        out[f"optim.{player}.name"] = (o.name, list(OPTIMIZERS))
        out[f"optim.{player}.schedule"] = (o.schedule, list(SCHEDULES))
    return out


def problems(config) -> list:
    """Every problem of `config`, one line each (empty when it is fine)."""
    found = []

    def need(ok, key, value, rule):
        if not ok:
            found.append(f"{key}={value!r}: {rule}")

    for key, (value, valid) in _names(config).items():
        close = difflib.get_close_matches(str(value), [str(v) for v in valid], n=1)
        need(value in valid, key, value, f"must be one of {valid}" +
             (f" (did you mean {close[0]!r}?)" if close else ""))
    t = config.train
    for key in ("steps", "batch_size", "d_steps", "steps_per_call", "log_every", "sample_every",
                "ckpt_every", "keep_checkpoints"):
        value = getattr(t, key)
        need(isinstance(value, int) and value >= 1, f"train.{key}", value,
             "must be a whole number >= 1" + (" (0 would delete every checkpoint)"
                                              if key == "keep_checkpoints" else ""))
    for key in ("log_every", "sample_every", "ckpt_every", "steps"):
        value = getattr(t, key)
        if isinstance(value, int) and value >= 1 and t.steps_per_call >= 1:
            need(value % t.steps_per_call == 0, f"train.{key}", value,
                 f"must be a positive multiple of train.steps_per_call={t.steps_per_call}")
    need(isinstance(t.num_devices, int) and t.num_devices >= 0, "train.num_devices",
         t.num_devices, "must be >= 0 (0: all local devices)")
    need(0.0 <= t.ema_decay < 1.0, "train.ema_decay", t.ema_decay,
         "must lie in [0, 1) (0: no EMA of G; e.g. 0.999)")
    need(t.ema_rampup >= 0, "train.ema_rampup", t.ema_rampup, "must be >= 0 (0: off; e.g. 0.05)")
    m = config.model
    need(isinstance(m.latent_dim, int) and m.latent_dim >= 1, "model.latent_dim", m.latent_dim,
         "must be >= 1")
    for key in ("g_hidden", "d_hidden"):
        widths = tuple(getattr(m, key))
        need(all(isinstance(w, int) and w >= 1 for w in widths), f"model.{key}", widths,
             "every hidden width must be >= 1")
    for key in ("g_width", "d_width"):
        need(getattr(m, key) >= 1, f"model.{key}", getattr(m, key), "must be >= 1")
    need(isinstance(m.mbstd_group, int) and m.mbstd_group >= 0, "model.mbstd_group",
         m.mbstd_group, "must be a whole number >= 0 (0: off; PGGAN: 4)")
    need(isinstance(m.res_blocks, int) and m.res_blocks >= 0, "model.res_blocks", m.res_blocks,
         "must be a whole number >= 0 (the paper: 6 for 128 px, 9 for 256 px)")
    if "cyclegan" in config:
        for key in ("lambda_cycle", "lambda_identity", "pool_size"):
            value = config.cyclegan[key]
            need(value >= 0, f"cyclegan.{key}", value, "must be >= 0 (0 turns it off)")
    if m.mbstd_group and m.arch not in ("mlp", "dcgan"):
        need(False, "model.mbstd_group", m.mbstd_group,
             f"applies to the mlp and dcgan discriminators, not model.arch={m.arch!r} "
             "(PGGAN has progressive.mbstd_group)")
    if "vanilla" in config:
        v = config.vanilla
        if config.gan.family not in ("vanilla", "conditional"):
            for key, off in (("pack", 1), ("unroll_steps", 0), ("diffaugment", "none")):
                need(v[key] == off or v[key] == "", f"vanilla.{key}", v[key],
                     f"applies to the vanilla and conditional families, not gan.family="
                     f"{config.gan.family!r} (leave it at {off!r})")
        need(isinstance(v.pack, int) and v.pack >= 1, "vanilla.pack", v.pack,
             "must be a whole number >= 1 (1: off; PacGAN: 2-4)")
        need(isinstance(v.unroll_steps, int) and v.unroll_steps >= 0, "vanilla.unroll_steps",
             v.unroll_steps, "must be a whole number >= 0 (0: off; Metz et al.: 5)")
        if isinstance(v.pack, int) and v.pack > 1 and t.batch_size % v.pack:
            need(False, "vanilla.pack", v.pack,
                 f"must divide train.batch_size={t.batch_size} (samples are packed per device)")
    d = config.data
    need(d.image_size >= 0, "data.image_size", d.image_size, "must be >= 0 (0: the set's own)")
    need(d.read_workers >= 0, "data.read_workers", d.read_workers, "must be >= 0 (0: read in "
         "the training process)")
    if d.read_workers:
        need(d.streaming, "data.read_workers", d.read_workers,
             "applies to streamed data: set data.streaming=True too (or leave it at 0)")
    need(d.pseudo_labels >= 0, "data.pseudo_labels", d.pseudo_labels,
         "must be >= 0 (0: off; K: the k-means clusters of the training pixels as K labels)")
    if d.pseudo_labels:
        from gan_jax.data.catalog import IMAGE_DATASETS
        need(d.name in IMAGE_DATASETS, "data.pseudo_labels", d.pseudo_labels,
             f"clusters the image sets, not {d.name!r}")
        need(not d.streaming, "data.pseudo_labels", d.pseudo_labels,
             "clusters a split held in memory: leave data.streaming off")
        need(config.gan.family == "conditional", "data.pseudo_labels", d.pseudo_labels,
             f"conditions the conditional family on the clusters; gan.family="
             f"{config.gan.family!r} would ignore them (set gan.family=conditional)")
    if d.get("streaming", False):
        from gan_jax.data.catalog import IMAGE_DATASETS
        need(d.name in IMAGE_DATASETS and d.name != "photo_crops", "data.streaming", True,
             f"streams the image sets ({', '.join(n for n in IMAGE_DATASETS if n != 'photo_crops')}"
             f"), not {d.name!r}, which is read whole")
    if d.name == "toy_1d":
        need(d.std > 0, "data.std", d.std, "must be > 0")
        need(d.separation >= 0, "data.separation", d.separation, "must be >= 0")
    if "progressive" in config:
        p = config.progressive
        side = p.resolution
        need(isinstance(side, int) and side >= 4 and not side & (side - 1),
             "progressive.resolution", side, "must be a power of two >= 4")
        need(p.fade_images >= 0, "progressive.fade_images", p.fade_images, "must be >= 0")
        need(p.stable_images > 0, "progressive.stable_images", p.stable_images, "must be > 0")
        need(p.mbstd_group >= 0, "progressive.mbstd_group", p.mbstd_group, "must be >= 0 (0: off)")
        for key in ("fmap_base", "fmap_max"):
            need(p[key] >= 2, f"progressive.{key}", p[key], "must be >= 2")
    for key in ("gp_weight", "r1_gamma", "r2_gamma", "weight_clip", "drift"):
        value = getattr(config.loss, key)
        need(value >= 0, f"loss.{key}", value, "must be >= 0 (0 turns it off)")
    for player in ("g", "d"):
        o = config.optim[player]
        need(o.lr > 0, f"optim.{player}.lr", o.lr, "must be > 0")
        need(o.warmup_steps >= 0, f"optim.{player}.warmup_steps", o.warmup_steps, "must be >= 0")
        need(0.0 <= o.decay_start <= 1.0, f"optim.{player}.decay_start", o.decay_start,
             "must lie in [0, 1]")
        need(o.final_lr_scale >= 0, f"optim.{player}.final_lr_scale", o.final_lr_scale,
             "must be >= 0")
    e = config.eval
    need(e.num_samples >= 2, "eval.num_samples", e.num_samples, "must be >= 2")
    need(e.every >= 0, "eval.every", e.every, "must be >= 0 (0: only at the end)")
    need(e.max_real >= 0, "eval.max_real", e.max_real, "must be >= 0 (0: all training images)")
    found += _metric_problems(config)
    return found


def _metric_problems(config) -> list:
    from gan_jax.data.toy import TOY_DATASETS
    from gan_jax.evaluators import classes, inpainting, pyramid, translation, unpaired
    from gan_jax.metrics.compare import METRICS
    value = config.eval.metrics
    if value == "auto":
        return []
    names = [n.strip() for n in str(value).split(",") if n.strip()]
    if config.data.name in TOY_DATASETS:
        return [f"eval.metrics={value!r}: the toy data sets are evaluated by their own fixed set "
                "(W1 and KS for toy_1d; modes for ring and grid); use 'auto'"]
    plugins = (classes.ClassAccuracy, classes.IntraClassFID, pyramid.PyramidMetrics,
               inpainting.HoleScores, inpainting.DigitScores, translation.PairScores,
               translation.DigitSceneScores, unpaired.UnpairedScores)
    valid = list(METRICS) + [n for p in plugins for n in p.known]
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        return [f"eval.metrics={value!r}: unknown metric(s) {unknown}; valid: 'auto' or a comma "
                f"list of {valid}"]
    return []


def validate_config(config):
    """Raise one GanJaxError listing every problem of `config`; return it unchanged if none."""
    found = problems(config)
    if found:
        lines = "\n".join(f"  - {p}" for p in found)
        raise GanJaxError(f"the config has {len(found)} problem(s); nothing was run or "
                          f"written:\n{lines}")
    return config
