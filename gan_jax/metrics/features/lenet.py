"""An MNIST digit classifier (a small LeNet-style CNN) with its trained weights shipped here.

The network sees 28x28x1 digits in [-1, 1] (background -1) and gives a penultimate feature
vector (`Features.features`, 128-d after ReLU: the embedding for Fréchet distance, KID,
precision/recall) and 10 class logits (`Features.logits`: the "MNIST score", digit accuracy):

    conv 5x5 (VALID) -> ReLU -> 2x2 max-pool      28 -> 24 -> 12
    conv 5x5 (VALID) -> ReLU -> 2x2 max-pool      12 ->  8 ->  4
    flatten -> dense -> ReLU = features           4*4*C2 -> 128
    dropout (training only) -> dense = logits     128 -> 10

No BatchNorm, so inference needs only `params`; dropout is off unless `train=True`.

The convolutions are written as one GEMM over the 5x5 patches (`PatchConv`, the same
`kernel [5, 5, Cin, Cout]` / `bias` parameters as `flax.linen.Conv(padding='VALID')`, and the
same result to float rounding). On XLA:CPU a `lax.conv` inside the training epoch's `lax.scan`
ran ~25x slower than outside it (a known XLA:CPU problem with convolutions in loop bodies,
jax-ml/jax#12868); the GEMM form runs at full speed in both places (measured: 0.08 s per
batch-100 training step inside a scan, against ~4 s for `nn.Conv` in the scan and ~0.17 s for
`nn.Conv` in a plain jitted step).

The weights file `mnist_lenet.npz` beside this module is written by
`experiments/train_mnist_classifier.py`, which trains on the offline digits' train split only and
stores, with the weights, the architecture and its measured accuracy on the 500 held-out test
digits (`metadata`; a readable copy is in `mnist_lenet.json`; the shipped weights: 98.6%, 7
errors of 500, seed 0, 40 epochs, 184,586 parameters). To regenerate it (deterministic: the
same seed gave bit-identical parameters on this machine):

    PYTHONPATH=. python experiments/train_mnist_classifier.py

Use:
    extract = MnistExtractor()                 # shipped weights
    out = extract(images)                      # images: float [N, 28, 28, 1] in [-1, 1]
    out.features, out.logits                   # [N, 128], [N, 10] float32 numpy
    classify(images), class_probabilities(images)
"""
import functools
import json
import os
import pathlib
import zipfile
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from gan_jax.pixels import check_images
from gan_jax.errors import GanJaxError
from gan_jax.metrics.features import Features

PathLike = Union[str, os.PathLike]

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
DEFAULT_WEIGHTS = pathlib.Path(__file__).with_name("mnist_lenet.npz")
METADATA_KEY = "metadata_json"     # npz entry: the metadata as one JSON string
PARAM_PREFIX = "params/"           # npz entries: params/<layer>/<kernel|bias>
DEFAULT_BATCH_SIZE = 256
REGENERATE = "PYTHONPATH=. python experiments/train_mnist_classifier.py"


class LeNet(nn.Module):
    """LeNet-style CNN for 28x28x1 inputs in [-1, 1]; returns (features [N, hidden], logits)."""
    channels: Sequence[int] = (32, 64)
    hidden: int = 128
    num_classes: int = NUM_CLASSES
    dropout_rate: float = 0.0

    @nn.compact
    def __call__(self, x, train: bool = False) -> Tuple[jax.Array, jax.Array]:
        h = x.astype(jnp.float32)
        for i, c in enumerate(self.channels):
            h = nn.relu(PatchConv(c, name=f"conv{i + 1}")(h))
            h = _max_pool_2x2(h)
        h = h.reshape((h.shape[0], -1))
        features = nn.relu(nn.Dense(self.hidden, name="fc")(h))
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
        logits = nn.Dense(self.num_classes, name="logits")(h)
        return features, logits


class PatchConv(nn.Module):
    """VALID, stride-1 k x k convolution as patches @ kernel: `nn.Conv(features, (k, k),
    padding='VALID')` with the same parameters, written as a GEMM (see the module notes)."""
    features: int
    kernel_size: int = 5

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k, cin = self.kernel_size, x.shape[-1]
        kernel = self.param("kernel", _flat_lecun_normal, (k, k, cin, self.features))
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        ho, wo = x.shape[1] - k + 1, x.shape[2] - k + 1
        # [N, Ho, Wo, k*k*Cin] in (row, column, channel) order, matching kernel.reshape below.
        patches = jnp.concatenate(
            [x[:, i:i + ho, j:j + wo, :] for i in range(k) for j in range(k)], axis=-1)
        return jnp.dot(patches, kernel.reshape(k * k * cin, self.features)) + bias


def _flat_lecun_normal(key, shape, dtype=jnp.float32):
    """`lecun_normal()` (fan_in = k*k*Cin) drawn as the [k*k*Cin, Cout] matrix and reshaped.

    The same values as drawing the 4-D shape (jax's partitionable threefry counts in row-major
    order), but XLA:CPU compiles the 2-D draw in ~0.3 s against ~1.5 s per 4-D draw.
    """
    matrix = nn.initializers.lecun_normal()(key, (int(np.prod(shape[:-1])), shape[-1]), dtype)
    return matrix.reshape(shape)


def _max_pool_2x2(h: jax.Array) -> jax.Array:
    """2x2 max-pool, stride 2, as a reshape and a max (its gradient is an elementwise mask,
    cheaper on XLA:CPU than the select-and-scatter of `nn.max_pool`'s backward pass)."""
    n, height, width, c = h.shape
    return h.reshape(n, height // 2, 2, width // 2, 2, c).max(axis=(2, 4))


def architecture(module: LeNet) -> Dict[str, Any]:
    """The module's hyperparameters as stored in the weights file's metadata."""
    return {"channels": [int(c) for c in module.channels], "hidden": int(module.hidden),
            "num_classes": int(module.num_classes)}


def module_from_architecture(arch: Dict[str, Any]) -> LeNet:
    return LeNet(channels=tuple(int(c) for c in arch["channels"]), hidden=int(arch["hidden"]),
                 num_classes=int(arch.get("num_classes", NUM_CLASSES)))


def param_count(params) -> int:
    return int(sum(np.size(p) for p in jax.tree_util.tree_leaves(params)))


# ------------------------------------------------------------------------------------------------
# Weights file: an .npz of float32 arrays `params/<layer>/<name>` plus one JSON metadata string.
# ------------------------------------------------------------------------------------------------

def save_weights(path: PathLike, params, metadata: Dict[str, Any]) -> pathlib.Path:
    """Writes `params` (the Flax `params` collection) and `metadata` (must hold 'architecture')
    to `path` as .npz, atomically (a temporary file renamed into place)."""
    if "architecture" not in metadata:
        raise ValueError("metadata must hold 'architecture' (see lenet.architecture)")
    path = pathlib.Path(path)
    flat = traverse_util.flatten_dict(jax.device_get(params), sep="/")
    arrays = {PARAM_PREFIX + k: np.asarray(v, np.float32) for k, v in flat.items()}
    arrays[METADATA_KEY] = np.array(json.dumps(metadata, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(tmp, path)
    return path


def _bad_file(path: pathlib.Path, detail: str) -> GanJaxError:
    return GanJaxError(
        f"MNIST classifier weights file {path} {detail}. Regenerate it (trains on the offline "
        f"digits in a few minutes, writes {DEFAULT_WEIGHTS.name} into the package by default): "
        f"`{REGENERATE} --output {path}`; or pass weights_path=None for the shipped weights")


def load_weights(weights_path: Optional[PathLike] = None
                 ) -> Tuple[LeNet, Dict[str, Any], Dict[str, Any]]:
    """(module, variables {'params': ...}, metadata) from a weights file (default: shipped).

    Raises GanJaxError naming the file and the command that regenerates it when the file is
    missing, unreadable, or does not hold the parameters its recorded architecture needs.
    """
    path = pathlib.Path(DEFAULT_WEIGHTS if weights_path is None else weights_path)
    return read_weights(path, lambda m: (module_from_architecture(m["architecture"]),
                                         IMAGE_SHAPE), _bad_file)


def read_weights(path: PathLike, build, bad_file):
    """(module, variables, metadata) of a weights file written by `save_weights`, checked: the
    file exists and reads, its metadata gives `build(metadata) -> (module, input shape)`, and its
    params are exactly the module's (names, shapes, float32), all finite. Each failure raises
    `bad_file(path, detail)` (a GanJaxError naming the fix)."""
    path = pathlib.Path(path).expanduser().absolute()
    if not path.is_file():
        raise bad_file(path, "does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.array(data[k]) for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise bad_file(path, f"could not be read ({type(err).__name__}: {err})") from None
    try:
        metadata = json.loads(str(arrays.pop(METADATA_KEY)))
        module, shape = build(metadata)
    except (KeyError, TypeError, ValueError) as err:
        raise bad_file(path, f"has no valid metadata ({type(err).__name__}: {err})") from None
    flat = {k[len(PARAM_PREFIX):]: v for k, v in arrays.items() if k.startswith(PARAM_PREFIX)}
    expected = traverse_util.flatten_dict(
        jax.eval_shape(module.init, jax.random.key(0), jnp.zeros((1,) + tuple(shape)))["params"],
        sep="/")
    missing = sorted(set(expected) - set(flat))
    extra = sorted(set(flat) - set(expected))
    wrong = sorted(k for k in set(expected) & set(flat)
                   if flat[k].shape != expected[k].shape or flat[k].dtype != np.float32)
    if missing or extra or wrong:
        raise bad_file(path, f"does not match its architecture {metadata['architecture']} "
                             f"(missing {missing}, unexpected {extra}, wrong shape/dtype {wrong})")
    if not all(np.isfinite(v).all() for v in flat.values()):
        raise bad_file(path, "holds non-finite parameters")
    params = traverse_util.unflatten_dict(flat, sep="/")
    return module, {"params": params}, metadata


@functools.lru_cache(maxsize=8)
def _jitted_forward(module: LeNet):
    return jax.jit(lambda variables, x: module.apply(variables, x))


class MnistExtractor:
    """`extract(images) -> Features(features [N, 128], logits [N, 10])`, float32 numpy.

    `images`: float NHWC [N, 28, 28, 1] in [-1, 1] (numpy or jax; convert uint8 with
    `gan_jax.pixels.to_model_range`). Runs jitted in batches of `batch_size`, the last one
    padded, so one compilation serves any N.
    """

    def __init__(self, weights_path: Optional[PathLike] = None,
                 batch_size: int = DEFAULT_BATCH_SIZE):
        if int(batch_size) < 1:
            raise GanJaxError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.module, variables, self.metadata = load_weights(weights_path)
        self.variables = jax.device_put(variables)
        self._forward = _jitted_forward(self.module)

    @property
    def feature_dim(self) -> int:
        return int(self.module.hidden)

    def __call__(self, images) -> Features:
        check_images(images, IMAGE_SHAPE)
        x = np.asarray(images, np.float32)
        n, b = len(x), self.batch_size
        padded = -(-n // b) * b
        if padded != n:
            x = np.concatenate([x, np.full((padded - n,) + IMAGE_SHAPE, -1.0, np.float32)])
        outputs = [self._forward(self.variables, x[i:i + b]) for i in range(0, padded, b)]
        features = np.concatenate([np.asarray(f) for f, _ in outputs])[:n]
        logits = np.concatenate([np.asarray(lg) for _, lg in outputs])[:n]
        return Features(features=features.astype(np.float32), logits=logits.astype(np.float32))

    def probabilities(self, images) -> np.ndarray:
        """p(y|x) [N, 10] float32 (softmax of the logits)."""
        logits = self(images).logits.astype(np.float64)
        logits -= logits.max(-1, keepdims=True)
        p = np.exp(logits)
        return (p / p.sum(-1, keepdims=True)).astype(np.float32)

    def classify(self, images) -> np.ndarray:
        """Predicted digit labels [N] int32."""
        return np.argmax(self(images).logits, -1).astype(np.int32)


@functools.lru_cache(maxsize=1)
def default_extractor() -> MnistExtractor:
    """The extractor with the shipped weights (built once per process)."""
    return MnistExtractor()


def classify(images) -> np.ndarray:
    """Digit labels [N] int32 of float images [N, 28, 28, 1] in [-1, 1], shipped weights."""
    return default_extractor().classify(images)


def class_probabilities(images) -> np.ndarray:
    """p(y|x) [N, 10] float32 of float images [N, 28, 28, 1] in [-1, 1], shipped weights."""
    return default_extractor().probabilities(images)
