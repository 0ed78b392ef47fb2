"""Pseudo-labels without labels: k-means clusters of the training images' pixels
(`data.pseudo_labels=K`).

A GAN conditioned on the cluster of each training image learns the data set piece by piece,
which trains much faster and more stably than one unconditional G on a small set, and uses no
class label: the clusters come from the pixels alone (the idea of cluster-conditioned GANs:
Sage et al. 2018, "Logo synthesis and manipulation with clustered GANs"; Liu et al. 2020,
"Diverse image generation via self-conditioned GANs", which clusters D's features instead).
Samples are drawn for clusters in proportion to their sizes, so they follow the data.

`kmeans(x, k, seed)`: k-means++ seeding (Arthur & Vassilvitskii 2007) and Lloyd's iterations
until no assignment changes, in float64; an emptied cluster takes the point farthest from its
centre. `assign(x, centres)`: the nearest centre of each row. Deterministic for a seed.
"""
from typing import Tuple

import numpy as np

from gan_jax.errors import GanJaxError


def _flat(images: np.ndarray) -> np.ndarray:
    """uint8 images [N, ...] -> float64 rows in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


def squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """||x_i - c_j||^2 [N, K] for rows x [N, D] and centres [K, D]."""
    d = (x * x).sum(1)[:, None] - 2.0 * x @ centres.T + (centres * centres).sum(1)[None, :]
    return np.maximum(d, 0.0)


def kmeans(x: np.ndarray, k: int, seed: int = 0, max_iters: int = 300
           ) -> Tuple[np.ndarray, np.ndarray]:
    """(centres [k, D], assignments int32 [N]) of rows x [N, D]."""
    x = np.asarray(x, np.float64)
    n = len(x)
    if not 1 <= k <= n:
        raise GanJaxError(f"k-means needs 1 <= k <= the number of images; got k={k} for {n}")
    rng = np.random.default_rng(seed)
    centres = np.empty((k, x.shape[1]))
    centres[0] = x[rng.integers(n)]
    nearest = squared_distances(x, centres[:1])[:, 0]
    for j in range(1, k):                      # k-means++: far points are likelier centres
        total = nearest.sum()
        i = rng.choice(n, p=nearest / total) if total > 0 else rng.integers(n)
        centres[j] = x[i]
        nearest = np.minimum(nearest, squared_distances(x, centres[j:j + 1])[:, 0])
    labels = None
    for _ in range(max_iters):
        d = squared_distances(x, centres)
        new = d.argmin(1).astype(np.int32)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = labels == j
            if members.any():
                centres[j] = x[members].mean(0)
            else:                              # emptied: restart at the worst-served point
                far = int(d[np.arange(n), labels].argmax())
                centres[j], labels[far] = x[far], j
    return centres, labels


def assign(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The nearest centre (int32) of each row of x."""
    return squared_distances(np.asarray(x, np.float64), centres).argmin(1).astype(np.int32)


def cluster_images(train_images: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """The k-means centres [k, pixels] of uint8 training images, on their pixels in [0, 1]."""
    return kmeans(_flat(train_images), k, seed)[0]


def pseudo_labels(images: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each uint8 image's cluster (int32 [N]): the nearest of `centres`."""
    flat = _flat(images)
    if flat.shape[1] != centres.shape[1]:
        raise GanJaxError(f"images of {flat.shape[1]} pixels cannot be assigned to clusters of "
                          f"{centres.shape[1]}")
    return assign(flat, centres)
