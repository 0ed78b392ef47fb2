"""Test session setup: 4 simulated CPU devices (for pmap tests), quiet logs, offline data dir."""
import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest  # noqa: E402
from absl import logging  # noqa: E402

logging.set_verbosity(logging.WARNING)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A tfds data_dir shared by the session's tests (the offline digits are prepared once)."""
    path = tmp_path_factory.mktemp("tfds")
    os.environ["GAN_JAX_DATA_DIR"] = str(path)
    return str(path)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop every compiled program after each test module: XLA:CPU maps each executable's code
    into memory, and one process running the whole suite otherwise passes the kernel's limit of
    65,530 memory maps (the suite aborted inside an XLA compile at ~90 %; the Pix2Pix tests alone
    left ~9,000 maps, ~600 after clearing)."""
    yield
    import gc

    import jax
    jax.clear_caches()
    gc.collect()
