"""k-means pseudo-labels (`data.pseudo_labels`): the partition of scikit-learn's k-means on
separated blobs, Lloyd's objective never rising, determinism; the labels of a run's splits are
the clusters of the training pixels, with no class label used."""
import chex
import numpy as np
import pytest

from gan_jax.config import base_config
from gan_jax.data import clusters, sources
from gan_jax.data.catalog import data_info
from gan_jax.errors import GanJaxError
from gan_jax.validation import validate_config


def _blobs(seed=0, k=5, n=60, dim=8):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (k, dim))
    truth = np.repeat(np.arange(k), n)
    return centres[truth] + rng.normal(0, 0.5, (k * n, dim)), truth


def _same_partition(a, b):
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_kmeans_finds_the_blobs_as_scikit_learn_does():
    from sklearn.cluster import KMeans
    x, truth = _blobs()
    centres, labels = clusters.kmeans(x, 5, seed=0)
    reference = KMeans(5, n_init=10, random_state=0).fit(x)
    assert _same_partition(labels, truth) and _same_partition(labels, reference.labels_)
    inertia = clusters.squared_distances(x, centres)[np.arange(len(x)), labels].sum()
    np.testing.assert_allclose(inertia, reference.inertia_, rtol=1e-9)
    np.testing.assert_array_equal(clusters.assign(x, centres), labels)
    chex.assert_type(labels, np.int32)


def test_kmeans_is_deterministic_and_on_real_digits_beats_chance(data_dir):
    x, truth = _blobs(seed=1, k=4)
    a = clusters.kmeans(x, 6, seed=3)
    b = clusters.kmeans(x, 6, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    from gan_jax.data.images import load_images
    images, digits = load_images("mnist_offline", "train")
    centres = clusters.cluster_images(images, 10, seed=0)
    labels = clusters.pseudo_labels(images, centres)
    purity = sum(np.bincount(digits[labels == c]).max() for c in np.unique(labels)) / len(digits)
    assert purity > 0.5                       # measured 0.58 (chance: ~0.11)


def test_a_runs_labels_are_the_clusters_of_its_training_pixels(data_dir):
    c = base_config()
    c.gan.family, c.model.arch, c.data.pseudo_labels = "conditional", "dcgan", 7
    validate_config(c)
    assert data_info(c).num_classes == 7
    stream = sources.make_stream(c)
    pixels = stream.images.reshape(len(stream.images), -1) / 255.0
    centres, train_labels = clusters.kmeans(pixels, 7, seed=c.seed)     # k-means' own answer
    np.testing.assert_array_equal(stream.labels, train_labels)
    test_images, test_labels = sources.load_split(c, "test")
    nearest = clusters.squared_distances(test_images.reshape(len(test_images), -1) / 255.0,
                                         centres).argmin(1)
    np.testing.assert_array_equal(test_labels, nearest)
    assert stream.info.num_classes == 7 and set(np.unique(stream.labels)) == set(range(7))


@pytest.mark.parametrize("change,message", [
    ({"gan.family": "vanilla"}, "set gan.family=conditional"),
    ({"data.name": "ring"}, "clusters the image sets"),
    ({"data.streaming": True}, "leave data.streaming off"),
])
def test_pseudo_labels_refused_where_they_would_be_ignored(change, message):
    c = base_config()
    c.gan.family, c.data.pseudo_labels = "conditional", 10
    for key, value in change.items():
        section, name = key.split(".")
        c[section][name] = value
    with pytest.raises(GanJaxError, match=message):
        validate_config(c)


def test_a_cluster_conditioned_dcgan_learns_its_clusters(data_dir):
    """200 steps of dcgan_mnist_clusters (10 clusters, batch 64): the samples generated for
    cluster c fall in cluster c (nearest centre), where chance is 1/10. Measured 1.00 for G and
    its EMA over seeds 0-2 (0.65-0.80 after 100 steps)."""
    import jax
    from experiments.configs import dcgan_mnist_clusters
    from tests.train.helpers import run_steps
    c = dcgan_mnist_clusters.get_config()
    c.data.pseudo_labels = 10
    c.train.batch_size, c.train.steps_per_call, c.train.progress = 64, 50, False
    state, _, (data, spec, _) = run_steps(c, 4)
    centres = clusters.cluster_images(data.images, 10, seed=c.seed)
    wanted = np.arange(500) % 10
    for g in (state.g, state.ema_g):
        x = np.asarray(spec.sample(g, jax.random.key(1), 500, cond=wanted))
        samples = np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8)
        assert np.mean(clusters.pseudo_labels(samples, centres) == wanted) >= 0.9
