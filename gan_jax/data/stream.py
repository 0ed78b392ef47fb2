"""The data stream: an infinite, seeded, exactly resumable sequence of training examples.

Example number e (0, 1, 2, ...) of a run is item `perm_epoch[e mod N]` with epoch = e // N and
`perm_epoch` a permutation drawn from (seed, epoch). A batch is a slice of consecutive examples,
so the stream's whole state is one integer, its position (examples consumed); it is saved in each
checkpoint and a resumed run reads exactly the batches the uninterrupted run would have.

Host side, a batch is `{'index': int32 [..., B], 'x': uint8 [..., B, H, W, C], 'label': ...}`;
`transform` runs on device inside the compiled step (uint8 -> float32 in [-1, 1], or sampling a
toy distribution from each example's index).
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError


class ImageStream:
    kind = "image"

    def __init__(self, images: np.ndarray, labels=None, seed: int = 0):
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
            raise GanJaxError(
                f"training images must be a uint8 array [N, H, W, C] in 0..255; got "
                f"{getattr(images, 'dtype', type(images))} of shape {np.shape(images)}. Convert "
                "with np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8) from [-1, 1], "
                "or add a channel axis with x[..., None]")
        self.images = images
        self.labels = None if labels is None else np.asarray(labels, np.int32)
        self.seed = seed
        self.example_shape = images.shape[1:]

    @functools.lru_cache(maxsize=4)
    def _permutation(self, epoch: int):
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.images))

    def batches(self, position: int, count: int, batch_size: int) -> dict:
        """`count` consecutive batches from example `position` on, stacked: [count, B, ...]."""
        e = position + np.arange(count * batch_size, dtype=np.int64)
        n = len(self.images)
        items = np.empty_like(e)
        for epoch in np.unique(e // n):
            sel = e // n == epoch
            items[sel] = self._permutation(int(epoch))[e[sel] % n]
        out = {"index": (e % 2**31).astype(np.int32).reshape(count, batch_size),
               "x": self.images[items].reshape((count, batch_size) + self.example_shape)}
        if self.labels is not None:
            out["label"] = self.labels[items].reshape(count, batch_size)
        return out

    @staticmethod
    def transform(batch):
        return {**batch, "x": batch["x"].astype(jnp.float32) / 127.5 - 1.0}


class ToyStream:
    kind = "toy"

    def __init__(self, distribution, seed: int = 0):
        self.distribution = distribution
        self.example_shape = (distribution.dim,)
        self._key = jax.random.fold_in(jax.random.key(seed), 0x7D47A)  # the data's own key

    def batches(self, position: int, count: int, batch_size: int) -> dict:
        e = position + np.arange(count * batch_size, dtype=np.int64)
        return {"index": (e % 2**31).astype(np.int32).reshape(count, batch_size)}

    def transform(self, batch):
        index = batch["index"]
        x = self.distribution.sample(self._key, index.reshape(-1))
        return {**batch, "x": x.reshape(index.shape + self.example_shape)}
