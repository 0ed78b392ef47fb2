"""The default config every experiment starts from (experiments/configs/*.py override it).

All keys a run reads are here, so `--config.KEY=VALUE` can set any of them and a mistyped key
fails at once.
"""
import ml_collections


def optimizer(name="adam", lr=2e-4, b1=0.5, b2=0.999, momentum=0.9, nesterov=False):
    return ml_collections.ConfigDict(dict(name=name, lr=lr, b1=b1, b2=b2, momentum=momentum,
                                          nesterov=nesterov))


def base_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.data = ml_collections.ConfigDict(dict(
        name="mnist_offline",   # toy_1d | ring | grid | mnist_offline | stacked_mnist | mnist |
                                # fashion_mnist | cifar10 | celeb_a
        data_dir="",            # tfds data_dir ('' = $GAN_JAX_DATA_DIR or ~/tensorflow_datasets)
        image_size=0,           # > 0: centre-crop images square and resize them to this side
        distribution="gaussian",  # toy_1d: gaussian | mixture
        mean=4.0, std=0.5, separation=4.0))
    c.model = ml_collections.ConfigDict(dict(
        arch="mlp",             # mlp | dcgan
        latent_dim=100, latent_distribution="normal",
        # mlp
        g_hidden=(128,), d_hidden=(128,), g_activation="relu", d_activation="leaky_relu",
        g_output="tanh", g_batch_norm=False, d_batch_norm=False,
        # dcgan: width of G's last and D's first hidden stage (doubling per stage), and the
        # 4x4 stride-2 convolution implementation: fast (per layer and backend, see
        # gan_jax.nets.dcgan.resolve_impl) | winograd | gemm | subpixel | xla | matrix
        g_width=64, d_width=64, conv_impl="fast",
        # dcgan: float32 | bfloat16 (mixed precision: float32 parameters, optimizer state and
        # BatchNorm statistics; bfloat16 convolutions and activations; for GPU/TPU)
        compute_dtype="float32"))
    c.loss = ml_collections.ConfigDict(dict(g_loss="non_saturating"))  # | saturating
    c.optim = ml_collections.ConfigDict(dict(g=optimizer(), d=optimizer()))
    c.train = ml_collections.ConfigDict(dict(
        steps=10_000, batch_size=64, d_steps=1,
        steps_per_call=1,        # steps fused into one compiled call (lax.scan)
        mapper="pmap",           # pmap | shard_map
        num_devices=0,           # 0 = all local devices
        ema_decay=0.0,           # > 0 keeps an EMA of G, used for samples and evaluation
        log_every=100, sample_every=1000, ckpt_every=1000, keep_checkpoints=3,
        progress=True))
    c.eval = ml_collections.ConfigDict(dict(
        num_samples=10_000,     # generated samples per evaluation
        every=0,                # > 0: also evaluate every this many steps (eval_* rows in
                                # metrics.jsonl); the end of training always writes eval.json
        metrics="auto",         # auto | comma list of fid,is,kid,pr,dc,parzen,modes
        features="auto",        # auto | mnist | inception (gan_jax.evaluation)
        inception_weights="",   # pytorch-fid .pth or converted .npz ('' = default location)
        baseline=False))        # also score the held-out real split (real_* keys)
    return c
