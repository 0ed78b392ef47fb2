"""The FID InceptionV3 (gan_jax.metrics.features.inception) against PyTorch.

CI has no torch: the reference numbers come from tests/golden/inception_torch.npz, written by
tests/golden/make_inception.py (an independent PyTorch implementation of pytorch-fid's network,
computed in float64) on weights and inputs that tests/golden/inception_seeded.py rebuilds here
from numpy seeds. Tolerance for pool3 and logits: |jax - torch| <= 1e-4 + 1e-4 |torch|, i.e.
absolute 1e-4 on values of order 1 (pool3 averages ~0.6 and reaches ~8, logits have std ~2);
measured differences are ~6e-6. The resize is checked against torch's F.interpolate to 1e-5.
Tests marked by `pytest.importorskip("torch")` are extras that run only where torch is present.

Cost: the network compiles once (module-scoped extractor, batch size 2) and runs 6 batches of 2
images at 299x299.
"""
import importlib.util
import pathlib

import chex
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.data.images import to_model_range
from gan_jax.errors import GanJaxError
from gan_jax.metrics.features import Features
from gan_jax.metrics.features import inception as inc
from gan_jax.metrics.features import inception_extractor as ext
from gan_jax.metrics.features import inception_weights as incw
from gan_jax.metrics.features.torch_pickle import load_state_dict
from tests.golden import inception_seeded as seeded

GOLDEN_DIR = pathlib.Path(__file__).resolve().parents[2] / "golden"
GOLDEN = GOLDEN_DIR / "inception_torch.npz"
TOL = dict(rtol=1e-4, atol=1e-4)
CASES = tuple(seeded.INPUT_CASES)


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def state(golden):
    return seeded.random_state_dict(int(golden["weights_seed"]))


@pytest.fixture(scope="module")
def inputs(golden):
    return seeded.golden_inputs(int(golden["inputs_seed"]))


@pytest.fixture(scope="module")
def weights_npz(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("inception") / "seeded.npz"
    np.savez(path, **state)
    return path


@pytest.fixture(scope="module")
def extractor(weights_npz):
    return ext.InceptionExtractor(weights_npz, batch_size=2)


@pytest.fixture(scope="module")
def results(extractor, inputs):
    """Every golden case through the extractor (the module's main cost)."""
    return {case: extractor(images) for case, images in inputs.items()}


@pytest.fixture
def no_weights_anywhere(monkeypatch, tmp_path):
    """No env var and an empty home, so the default location is missing too."""
    monkeypatch.delenv(incw.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


# ---------------------------------------------------------------------------------------------
# The seeded fixtures are the ones the golden file was made from.

def test_seeded_weights_are_the_golden_ones(golden, state):
    fingerprint = [np.abs(v.astype(np.float64)).sum() for v in state.values()]
    np.testing.assert_allclose(fingerprint, golden["weights_fingerprint"], rtol=1e-12)


def test_state_dict_table_matches_an_independent_listing():
    assert incw.expected_state_dict_shapes() == seeded.state_dict_shapes()
    n_params = sum(int(np.prod(s)) for k, s in seeded.state_dict_shapes().items()
                   if not k.endswith(("running_mean", "running_var")))
    # torchvision's Inception3 without its aux head: 23,834,568 at 1000 classes; 8 more classes
    # add 8 x 2049.
    assert n_params == 23_834_568 + 8 * 2049


# ---------------------------------------------------------------------------------------------
# Network outputs against PyTorch.

@pytest.mark.parametrize("case", CASES)
def test_matches_pytorch_golden(results, golden, state, inputs, case):
    out = results[case]
    n = len(inputs[case])
    assert isinstance(out, Features)
    chex.assert_shape(out.features, (n, inc.NUM_FEATURES))
    chex.assert_shape(out.logits, (n, inc.NUM_CLASSES))
    chex.assert_type([out.features, out.logits], np.float32)
    assert isinstance(out.features, np.ndarray) and isinstance(out.logits, np.ndarray)
    np.testing.assert_allclose(out.features, golden[f"pool3_{case}"], **TOL)
    # Default logits: pool3 @ W without fc's bias (the original Inception Score's).
    unbiased = golden[f"logits_{case}"].astype(np.float64) - state["fc.bias"]
    np.testing.assert_allclose(out.logits, unbiased, **TOL)


def test_logits_bias_option_gives_the_fc_output(golden, state):
    variables = incw.state_dict_to_variables(state)
    fc = {"params": variables["params"]["fc"]}
    pool3 = golden["pool3_rgb299"]
    with_bias = inc.Logits(use_bias=True).apply(fc, pool3)
    np.testing.assert_allclose(with_bias, golden["logits_rgb299"], **TOL)
    without = inc.Logits(use_bias=False).apply(fc, pool3)
    np.testing.assert_allclose(np.asarray(with_bias) - np.asarray(without),
                               np.broadcast_to(state["fc.bias"], without.shape), atol=1e-5)


def test_golden_activations_are_order_one_and_input_dependent(golden):
    """What makes a 1e-4 tolerance meaningful: values O(1), and images told apart."""
    for case, (n, *_) in seeded.INPUT_CASES.items():
        pool3, logits = golden[f"pool3_{case}"], golden[f"logits_{case}"]
        assert 0.2 < pool3.mean() < 2 and pool3.max() < 20, case
        assert 0.5 < logits.std() < 5, case
        if n > 1:
            rel = np.abs(pool3[0] - pool3[1]).mean() / np.abs(pool3).mean()
            assert rel > 0.03, (case, rel)


def test_batching_pads_and_orders(extractor, results, inputs):
    """N = 3 with batch size 2: batches [b, a] and [b, padding]; every row equals that
    image's row from the earlier run, and the network was compiled only once throughout."""
    a, b = inputs["grey28"]
    out = extractor(np.stack([b, a, b]))
    ref = results["grey28"]
    for got, want in ((out.features, ref.features), (out.logits, ref.logits)):
        np.testing.assert_allclose(got, want[[1, 0, 1]], rtol=1e-6, atol=1e-6)
    assert extractor._network._cache_size() == 1


# ---------------------------------------------------------------------------------------------
# Resize, as F.interpolate(mode='bilinear', align_corners=False).

def test_interpolation_matrices_match_torch(golden):
    for n in (28, 32, 340):
        np.testing.assert_allclose(inc.interpolation_matrix(n, 299), golden[f"interp_{n}"],
                                   atol=1e-6)


def test_small_resizes_match_torch(golden):
    for i, (_, _, oh, ow) in enumerate(seeded.SMALL_RESIZES):
        got = inc.resize_bilinear(jnp.asarray(golden[f"small{i}_x"]), (oh, ow))
        np.testing.assert_allclose(got, golden[f"small{i}_y"], atol=1e-5)


def test_resize_conventions():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (2, 9, 6, 3)).astype(np.float32)
    # Bilinear weights sum to 1: resizing commutes with pytorch-fid's [0, 1] -> [-1, 1] map.
    np.testing.assert_allclose(inc.resize_bilinear(2 * x - 1, (31, 4)),
                               2 * inc.resize_bilinear(x, (31, 4)) - 1, atol=1e-6)
    # No resize at the network's size; grey is resized, then repeated to RGB.
    y = rng.uniform(-1, 1, (1, 299, 299, 1)).astype(np.float32)
    chex.assert_trees_all_equal(inc.preprocess(y), jnp.repeat(jnp.asarray(y), 3, -1))
    grey = x[..., :1]
    chex.assert_trees_all_close(inc.preprocess(grey), inc.preprocess(np.repeat(grey, 3, -1)),
                                atol=1e-6)
    chex.assert_shape(inc.preprocess(x), (2, 299, 299, 3))
    # Shrinking takes two taps, no antialias: 4 -> 2 reads pixels 0.5 and 2.5.
    np.testing.assert_allclose(inc.interpolation_matrix(4, 2),
                               [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])


# ---------------------------------------------------------------------------------------------
# Weight files.

def test_reads_pth_files_written_by_torch_save(golden, tmp_path):
    """torch.save output (zip and legacy layouts), stored as bytes in the golden file."""
    expected = {k[len("pth_expect_"):]: v for k, v in golden.items()
                if k.startswith("pth_expect_")}
    for layout in ("pth_zip", "pth_legacy"):
        path = tmp_path / f"{layout}.pth"
        path.write_bytes(golden[layout].tobytes())
        got = load_state_dict(path)
        assert list(got) == list(expected), layout
        for key, want in expected.items():
            assert got[key].dtype == want.dtype and got[key].shape == want.shape, (layout, key)
            np.testing.assert_array_equal(got[key], want)


def test_pth_reader_rejects_bad_files(golden, tmp_path):
    zipped = golden["pth_zip"].tobytes()
    legacy = golden["pth_legacy"].tobytes()
    for name, blob in [("truncated_zip", zipped[:len(zipped) // 2]),
                       ("truncated_legacy", legacy[:len(legacy) - 20]),
                       ("garbage", b"\x00\x01not a torch file" * 10), ("empty", b"")]:
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(GanJaxError):
            load_state_dict(path)
    # A pickle that would call builtins.exec: refused by the restricted unpickler, not run.
    evil = tmp_path / "evil.pth"
    evil.write_bytes(b"cbuiltins\nexec\n(Vraise SystemExit('ran')\ntR.")
    with pytest.raises(GanJaxError, match="builtins.exec"):
        load_state_dict(evil)


def test_loader_accepts_npz_and_ignores_batch_counters(state, weights_npz, tmp_path):
    variables = incw.load_inception_params(weights_npz)
    chex.assert_trees_all_equal(incw.variables_to_state_dict(variables), state)
    chex.assert_tree_shape_prefix(variables["params"]["fc"]["kernel"], (2048, 1008))
    with_counter = dict(state, **{"Conv2d_1a_3x3.bn.num_batches_tracked": np.int64(7)})
    chex.assert_trees_all_equal(incw.state_dict_to_variables(with_counter), variables)


def test_missing_weights_say_where_to_get_them(no_weights_anywhere, monkeypatch, tmp_path):
    with pytest.raises(GanJaxError) as err:
        incw.load_inception_params()
    message = str(err.value)
    for needle in (incw.WEIGHTS_URL, incw.WEIGHTS_ENV, incw.DEFAULT_WEIGHTS_PATH, "never downloads",
                   str(no_weights_anywhere / ".cache" / "gan_jax" / incw.WEIGHTS_FILENAME)):
        assert needle in message
    with pytest.raises(GanJaxError, match="given path"):
        ext.InceptionExtractor(tmp_path / "nope.pth")
    monkeypatch.setenv(incw.WEIGHTS_ENV, str(tmp_path / "also_nope.pth"))
    with pytest.raises(GanJaxError, match=r"also_nope.pth \(\$GAN_JAX_INCEPTION_WEIGHTS\)"):
        incw.load_inception_params()


def test_weights_lookup_order(no_weights_anywhere, monkeypatch, weights_npz, tmp_path):
    default = no_weights_anywhere / ".cache" / "gan_jax" / incw.WEIGHTS_FILENAME
    default.parent.mkdir(parents=True)
    default.write_bytes(b"")
    assert incw.resolve_weights_path() == default
    monkeypatch.setenv(incw.WEIGHTS_ENV, str(weights_npz))
    assert incw.resolve_weights_path() == weights_npz
    explicit = tmp_path / "explicit.npz"
    explicit.write_bytes(b"")
    assert incw.resolve_weights_path(explicit) == explicit


def test_wrong_keys_and_shapes_are_named(state, tmp_path):
    missing = {k: v for k, v in state.items() if k != "Mixed_6c.branch7x7_2.bn.running_var"}
    with pytest.raises(GanJaxError, match=r"1 missing key\(s\): Mixed_6c.branch7x7_2.bn."
                                          r"running_var.*corrupt"):
        incw.state_dict_to_variables(missing)
    extra = dict(state, **{"AuxLogits.fc.weight": np.zeros((1008, 768), np.float32)})
    with pytest.raises(GanJaxError, match=r"unexpected key\(s\): AuxLogits.fc.weight"):
        incw.state_dict_to_variables(extra)
    wrong = dict(state, **{"Mixed_7c.branch_pool.conv.weight": np.zeros((192, 2048, 3, 3))})
    with pytest.raises(GanJaxError, match=r"Mixed_7c.branch_pool.conv.weight has shape "
                                          r"\(192, 2048, 3, 3\), expected \(192, 2048, 1, 1\)"):
        incw.state_dict_to_variables(wrong)
    path = tmp_path / "bad.npz"
    np.savez(path, **wrong)
    with pytest.raises(GanJaxError, match=r"bad.npz is not pytorch-fid's"):
        incw.load_inception_params(path)


def test_convert_command(weights_npz, state, tmp_path, capsys):
    out = tmp_path / "converted.npz"
    assert incw.main(["convert", str(weights_npz), str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with np.load(out) as data:
        chex.assert_trees_all_equal({k: data[k] for k in data.files}, state)
    assert incw.main(["convert", str(tmp_path / "missing.pth"), str(out)]) == 2
    assert incw.WEIGHTS_URL in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Input checks.

@pytest.mark.parametrize("shape,match", [
    ((2, 3, 32, 32), "looks like NCHW"),
    ((32, 32, 3), "add the batch axis"),
    ((2, 32, 32), r"x\[..., None\]"),
    ((2, 32, 32, 2), "C = 1 \\(grey\\) or 3"),
    ((2, 32, 32, 4), "C = 1 \\(grey\\) or 3"),
    ((0, 32, 32, 3), "empty"),
])
def test_rejects_wrong_shapes(extractor, shape, match):
    with pytest.raises(GanJaxError, match=match):
        extractor(np.zeros(shape, np.float32))


def test_rejects_wrong_dtype_and_range(extractor):
    raw = np.full((1, 8, 8, 3), 200, np.uint8)
    with pytest.raises(GanJaxError, match="to_model_range"):
        extractor(raw)
    with pytest.raises(GanJaxError, match=r"range \[200, 200\].*to_model_range"):
        extractor(raw.astype(np.float32))
    with pytest.raises(GanJaxError, match="non-finite"):
        extractor(np.full((1, 8, 8, 3), np.nan, np.float32))
    assert ext.check_inception_input(to_model_range(raw)).dtype == np.float32
    with pytest.raises(GanJaxError, match="batch_size"):
        ext.InceptionExtractor(batch_size=0, variables={})


# ---------------------------------------------------------------------------------------------
# Extras, with torch installed (not in CI).

def _make_inception_module():
    spec = importlib.util.spec_from_file_location("make_inception",
                                                  GOLDEN_DIR / "make_inception.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_saved_pth_loads_like_the_npz(state, weights_npz, tmp_path, legacy):
    torch = pytest.importorskip("torch")
    tensors = {k: torch.from_numpy(v) for k, v in state.items()}
    for key in list(tensors):
        if key.endswith("bn.running_var"):
            tensors[key.replace("running_var", "num_batches_tracked")] = torch.tensor(0)
    path = tmp_path / incw.WEIGHTS_FILENAME
    torch.save(tensors, path, _use_new_zipfile_serialization=not legacy)
    chex.assert_trees_all_equal(incw.load_inception_params(path),
                                incw.load_inception_params(weights_npz))
    out = tmp_path / "converted.npz"
    assert incw.main(["convert", str(path), str(out)]) == 0
    chex.assert_trees_all_equal(incw.load_inception_params(out),
                                incw.load_inception_params(weights_npz))


def test_live_torch_reference_agrees(results, golden, state, inputs):
    pytest.importorskip("torch")
    make = _make_inception_module()
    model = make.reference_model(state)
    pool3, logits = make.run_reference(model, inputs["rgb32"])
    np.testing.assert_allclose(pool3, golden["pool3_rgb32"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(logits, golden["logits_rgb32"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(results["rgb32"].features, pool3, **TOL)
    np.testing.assert_allclose(results["rgb32"].logits, logits - state["fc.bias"], **TOL)


def test_interpolation_matrices_match_live_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    for n, out in [(1, 299), (3, 299), (150, 299), (300, 299), (600, 299), (299, 64), (7, 5)]:
        basis = torch.eye(n, dtype=torch.float64).reshape(1, n, n, 1)
        want = F.interpolate(basis, size=(out, 1), mode="bilinear",
                             align_corners=False)[0, :, :, 0].T.numpy()
        np.testing.assert_allclose(inc.interpolation_matrix(n, out), want, atol=1e-6)
