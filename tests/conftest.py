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
