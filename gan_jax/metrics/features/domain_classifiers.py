"""Scoring classifiers of the CycleGAN tasks' domains, with their trained weights shipped here.

- `digits_classifier()`: the digit classes (0..9) of the upscaled scikit-learn digits
  (`sklearn_digits`, domain A of `digits <-> mnist`): the MNIST LeNet architecture
  (`gan_jax.metrics.features.lenet.LeNet`) trained on sklearn_digits' 1,497 train digits.
  Its accuracy on F(B) (MNIST digits translated into the digits domain) against B's labels is
  the B -> A label-preservation score; the MNIST LeNet (`lenet.MnistExtractor`) scores G(A).
- `texture_classifier()`: grass (0) vs gravel (1) on 128x128x1 crops (`skimage_textures`, the
  `grass <-> gravel` task): `TextureCNN` below, trained on the 800 train crops. The fraction of
  translated crops it judges to be the target texture is that task's score.

Both see images NHWC float in [-1, 1] (`gan_jax.pixels.to_model_range` converts uint8) and give
`Features(features, logits)` (`__call__`), `.logits(x)`, `.probabilities(x)`, `.classify(x)`
(int32 labels) and `.accuracy(x, labels)`; a batch of the wrong shape, dtype or range raises
GanJaxError (`check_images`). The measured held-out accuracies and the training settings are in
each weights file's metadata (`.metadata`; readable copies: the .json files beside this module).

The weights files (.npz of float32 `params/<layer>/<name>` + one metadata JSON string, the
format of `lenet.save_weights`) are written by `experiments/train_domain_classifiers.py`
(deterministic from its seed, a few minutes on CPU):

    PYTHONPATH=. python experiments/train_domain_classifiers.py

TextureCNN: four 3x3 stride-2 convolutions (SAME) with ReLU, 128 -> 64 -> 32 -> 16 -> 8, then a
global average pool (the 64-d features: texture statistics, independent of position) and a
dense layer to 2 logits. No BatchNorm, no dropout: inference needs only `params`. Trained with
flips/turns, brightness/contrast jitter, random Gaussian blur and pixel noise on both classes, so
that sharpness and grain are no cue: on the test crops it stays at 100 % after a blur of sigma 1
and after noise of std 0.2, 96 % / 86 % after a blur of sigma 1.5 / 2, 84 % after a 4x
down-and-up resize (trained without blur and noise, a blur of sigma 1 sent every grass crop to
gravel). Uniform noise and a constant grey image are judged grass.

Shipped weights (metadata): digits 99.67 % on the 300 sklearn_digits test digits (1 error; and
73.2 % on mnist_offline's 500 test digits, the F(B) identity baseline), texture 100 % on the 100
test crops (0 errors).
"""
import functools
import os
import pathlib
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.metrics.features import Features, lenet
from gan_jax.pixels import check_images

PathLike = Union[str, os.PathLike]

HERE = pathlib.Path(__file__).parent
DIGITS_WEIGHTS = HERE / "sklearn_digits_lenet.npz"
TEXTURE_WEIGHTS = HERE / "texture_cnn.npz"
DIGITS_SHAPE = lenet.IMAGE_SHAPE              # (28, 28, 1)
TEXTURE_SHAPE = (128, 128, 1)
TEXTURE_CLASSES = ("grass", "gravel")
REGENERATE = "PYTHONPATH=. python experiments/train_domain_classifiers.py"
DEFAULT_BATCH_SIZE = 100


class TextureCNN(nn.Module):
    """Small CNN for grey texture crops in [-1, 1]; returns (features [N, C_last], logits)."""
    channels: Sequence[int] = (16, 32, 64, 64)
    num_classes: int = len(TEXTURE_CLASSES)

    @nn.compact
    def __call__(self, x, train: bool = False) -> Tuple[jax.Array, jax.Array]:
        del train                                   # no dropout / BatchNorm
        h = x.astype(jnp.float32)
        for i, c in enumerate(self.channels):
            h = nn.relu(nn.Conv(c, (3, 3), strides=(2, 2), padding="SAME",
                                name=f"conv{i + 1}")(h))
        features = h.mean(axis=(1, 2))
        return features, nn.Dense(self.num_classes, name="logits")(features)


def texture_architecture(module: TextureCNN) -> Dict[str, Any]:
    return {"channels": [int(c) for c in module.channels], "num_classes": int(module.num_classes)}


def texture_from_architecture(arch: Dict[str, Any]) -> TextureCNN:
    return TextureCNN(channels=tuple(int(c) for c in arch["channels"]),
                      num_classes=int(arch.get("num_classes", len(TEXTURE_CLASSES))))


# model name (metadata 'model') -> (module from architecture, input shape)
MODELS: Dict[str, Tuple[Callable[[Dict[str, Any]], nn.Module], Tuple[int, int, int]]] = {
    "lenet": (lenet.module_from_architecture, DIGITS_SHAPE),
    "texture_cnn": (texture_from_architecture, TEXTURE_SHAPE),
}


def _bad_file(path: pathlib.Path, detail: str) -> GanJaxError:
    return GanJaxError(
        f"domain classifier weights file {path} {detail}. Regenerate the shipped files (a few "
        f"minutes on CPU): `{REGENERATE}`; or pass weights_path=None for the shipped weights")


def load_weights(path: PathLike) -> Tuple[nn.Module, Dict[str, Any], Dict[str, Any]]:
    """(module, variables {'params': ...}, metadata) of a weights file written by
    `lenet.save_weights` with metadata 'model' (a key of MODELS) and 'architecture'.

    Raises GanJaxError naming the file and the command that regenerates it when the file is
    missing, unreadable, or does not hold the parameters its recorded architecture needs.
    """
    def build(metadata):
        make, shape = MODELS[metadata["model"]]
        return make(metadata["architecture"]), shape
    return lenet.read_weights(path, build, _bad_file)


@functools.lru_cache(maxsize=8)
def _jitted_forward(module: nn.Module):
    return jax.jit(lambda variables, x: module.apply(variables, x))


class DomainClassifier:
    """A trained classifier of one domain's images: `clf(images) -> Features(features, logits)`.

    `images`: float NHWC [N, H, W, C] of `image_shape`, in [-1, 1] (numpy or jax). Runs jitted in
    batches of `batch_size`, the last one padded with -1, so one compilation serves any N.
    """

    def __init__(self, weights_path: PathLike, batch_size: int = DEFAULT_BATCH_SIZE):
        if int(batch_size) < 1:
            raise GanJaxError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.weights_path = pathlib.Path(weights_path)
        self.module, variables, self.metadata = load_weights(weights_path)
        self.image_shape = MODELS[self.metadata["model"]][1]
        self.num_classes = int(self.module.num_classes)
        self.class_names = tuple(self.metadata.get("class_names", range(self.num_classes)))
        self.variables = jax.device_put(variables)
        self._forward = _jitted_forward(self.module)

    def __call__(self, images) -> Features:
        check_images(images, self.image_shape)
        x = np.asarray(images, np.float32)
        n, b = len(x), self.batch_size
        padded = -(-n // b) * b
        if padded != n:
            x = np.concatenate([x, np.full((padded - n,) + self.image_shape, -1.0, np.float32)])
        outputs = [self._forward(self.variables, x[i:i + b]) for i in range(0, padded, b)]
        features = np.concatenate([np.asarray(f) for f, _ in outputs])[:n]
        logits = np.concatenate([np.asarray(lg) for _, lg in outputs])[:n]
        return Features(features=features.astype(np.float32), logits=logits.astype(np.float32))

    def logits(self, images) -> np.ndarray:
        """Class logits [N, num_classes] float32."""
        return self(images).logits

    def probabilities(self, images) -> np.ndarray:
        """p(y|x) [N, num_classes] float32 (softmax of the logits)."""
        logits = self.logits(images).astype(np.float64)
        logits -= logits.max(-1, keepdims=True)
        p = np.exp(logits)
        return (p / p.sum(-1, keepdims=True)).astype(np.float32)

    def classify(self, images) -> np.ndarray:
        """Predicted labels [N] int32."""
        return np.argmax(self.logits(images), -1).astype(np.int32)

    def accuracy(self, images, labels) -> float:
        """Fraction of `images` classified as `labels` ([N] ints)."""
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(images):
            raise GanJaxError(f"{len(labels)} labels for {len(images)} images")
        return float(np.mean(self.classify(images) == labels))


@functools.lru_cache(maxsize=4)
def _shipped(path: str) -> DomainClassifier:
    return DomainClassifier(path)


def digits_classifier(weights_path: Optional[PathLike] = None) -> DomainClassifier:
    """The sklearn_digits digit classifier (28x28x1, 10 classes); shipped weights by default
    (built once per process)."""
    if weights_path is None:
        return _shipped(os.fspath(DIGITS_WEIGHTS))
    return DomainClassifier(weights_path)


def texture_classifier(weights_path: Optional[PathLike] = None) -> DomainClassifier:
    """The grass (0) / gravel (1) classifier of 128x128x1 crops; shipped weights by default
    (built once per process)."""
    if weights_path is None:
        return _shipped(os.fspath(TEXTURE_WEIGHTS))
    return DomainClassifier(weights_path)
