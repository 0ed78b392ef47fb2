"""Test session setup: 4 simulated CPU devices (for pmap tests), quiet logs, offline data dir,
and one persistent compilation cache for the session (shared by pytest-xdist's workers, which
inherit the controller's environment)."""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

# Many tests build the same program more than once (determinism: two identical runs; n devices
# = 1; the CLIs' subprocesses, the chaos test's restarts). JAX's persistent compilation cache
# lets each later build load the executable instead of compiling it again: the Pix2Pix contract
# tests went from 353 s to 130 s. The cache is new for every session (a fresh temporary folder,
# removed at exit) unless JAX_COMPILATION_CACHE_DIR is already set, and the environment passes
# it to the subprocesses. A cached executable is the compiled program itself, so results stay
# bit-identical; an entry that cannot be read (a process killed mid-write) is compiled anew.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="gan_jax_test_xla_cache_")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import pytest  # noqa: E402
from absl import logging  # noqa: E402

logging.set_verbosity(logging.WARNING)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A tfds data_dir shared by the session's tests (the offline sets are prepared once). With
    pytest-xdist (`-n 2`) the workers share one folder beside their own temporary folders
    (preparing a set takes a file lock, so two workers never write it twice)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "tfds"
        path.mkdir(exist_ok=True)
    else:
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
