"""The FID InceptionV3's weights: pytorch-fid's state dict <-> the Flax variables of
`gan_jax.metrics.features.inception.InceptionV3`, where to find the file, and a converter.

    python -m gan_jax.metrics.features.inception_weights convert IN.pth OUT.npz

The file is pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (a torch state dict, read
without torch by `torch_pickle`) or an `.npz` with the same keys. gan_jax never downloads it;
it looks, in order, at the explicit `path` argument, the environment variable
GAN_JAX_INCEPTION_WEIGHTS, then ~/.cache/gan_jax/pt_inception-2015-12-05-6726825d.pth.
Missing, extra (other than BatchNorm's `num_batches_tracked`) or misshapen keys raise
GanJaxError naming the key.
"""
import argparse
import functools
import os
import pathlib
import sys
import zipfile
from typing import Dict, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.metrics.features.inception import InceptionV3
from gan_jax.metrics.features.torch_pickle import load_state_dict

PathLike = Union[str, os.PathLike]

WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
               + WEIGHTS_FILENAME)
WEIGHTS_ENV = "GAN_JAX_INCEPTION_WEIGHTS"
DEFAULT_WEIGHTS_PATH = os.path.join("~", ".cache", "gan_jax", WEIGHTS_FILENAME)


# ---------------------------------------------------------------------------------------------
# Weights: pytorch-fid's state dict <-> Flax variables.

# Flax leaf name -> torch leaf name, per collection.
_LEAF_NAMES = {("params", "kernel"): "weight", ("params", "scale"): "weight",
               ("params", "bias"): "bias", ("batch_stats", "mean"): "running_mean",
               ("batch_stats", "var"): "running_var"}
_IGNORED_SUFFIX = ".num_batches_tracked"     # BatchNorm's step counter: unused at inference


def _torch_layout(value: np.ndarray) -> np.ndarray:
    """Flax -> torch: conv HWIO -> OIHW, dense [in, out] -> [out, in]; vectors unchanged."""
    if value.ndim == 4:
        return value.transpose(3, 2, 0, 1)
    return value.T if value.ndim == 2 else value


def _flax_layout(value: np.ndarray) -> np.ndarray:
    """torch -> Flax: conv OIHW -> HWIO, dense [out, in] -> [in, out]; vectors unchanged."""
    if value.ndim == 4:
        return value.transpose(2, 3, 1, 0)
    return value.T if value.ndim == 2 else value


@functools.lru_cache(maxsize=1)
def _variable_table() -> Dict[str, Tuple[Tuple[str, ...], Tuple[int, ...]]]:
    """torch key -> (Flax variable path, torch-layout shape), from the module's own shapes."""
    shapes = jax.eval_shape(InceptionV3().init, jax.random.key(0),
                            jax.ShapeDtypeStruct((1, 75, 75, 3), jnp.float32))
    table = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(shapes)[0]:
        names = tuple(k.key for k in path)
        torch_key = ".".join(names[1:-1] + (_LEAF_NAMES[(names[0], names[-1])],))
        table[torch_key] = (names, _torch_layout(np.empty(leaf.shape, np.bool_)).shape)
    return table


def expected_state_dict_shapes() -> Dict[str, Tuple[int, ...]]:
    """The pytorch-fid state dict's keys and shapes (torch layout) this module needs."""
    return {k: shape for k, (_, shape) in _variable_table().items()}


def state_dict_to_variables(state: Dict[str, np.ndarray], source: str = "the weights") -> dict:
    """A pytorch-fid state dict (torch key -> array, torch layout) -> Flax variables
    {'params': ..., 'batch_stats': ...} (float32). Raises GanJaxError naming any missing or
    unexpected key and any wrong shape; `*.num_batches_tracked` entries are ignored."""
    table = _variable_table()
    given = {k: v for k, v in state.items() if not k.endswith(_IGNORED_SUFFIX)}
    fix = (f"{source} is not pytorch-fid's FID Inception state dict or is corrupt; get "
           f"{WEIGHTS_FILENAME} from {WEIGHTS_URL}")
    missing = sorted(set(table) - set(given))
    extra = sorted(set(given) - set(table))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {', '.join(missing[:5])}"
                         + (" ..." if len(missing) > 5 else ""))
        if extra:
            parts.append(f"{len(extra)} unexpected key(s): {', '.join(extra[:5])}"
                         + (" ..." if len(extra) > 5 else ""))
        raise GanJaxError(f"{'; '.join(parts)}. {fix}")
    variables: dict = {}
    for key, (names, shape) in table.items():
        value = np.asarray(given[key])
        if value.shape != shape:
            raise GanJaxError(f"key {key} has shape {value.shape}, expected {shape}. {fix}")
        if not np.issubdtype(value.dtype, np.floating):
            raise GanJaxError(f"key {key} has dtype {value.dtype}, expected floats. {fix}")
        node = variables
        for name in names[:-1]:
            node = node.setdefault(name, {})
        node[names[-1]] = np.ascontiguousarray(_flax_layout(value.astype(np.float32)))
    return variables


def variables_to_state_dict(variables: dict) -> Dict[str, np.ndarray]:
    """Flax variables -> pytorch-fid state dict (torch keys and layouts), float32."""
    out = {}
    for key, (names, _) in _variable_table().items():
        node = variables
        for name in names:
            node = node[name]
        out[key] = np.ascontiguousarray(_torch_layout(np.asarray(node, np.float32)))
    return out


def resolve_weights_path(path: Optional[PathLike] = None) -> pathlib.Path:
    """Where the weights are: `path` if given, else $GAN_JAX_INCEPTION_WEIGHTS if set, else
    ~/.cache/gan_jax/pt_inception-2015-12-05-6726825d.pth. GanJaxError if that file is absent."""
    if path is not None and os.fspath(path) != "":
        chosen, how = os.fspath(path), "given path"
    elif os.environ.get(WEIGHTS_ENV):
        chosen, how = os.environ[WEIGHTS_ENV], f"${WEIGHTS_ENV}"
    else:
        chosen, how = DEFAULT_WEIGHTS_PATH, "default location"
    resolved = pathlib.Path(chosen).expanduser()
    if not resolved.is_file():
        raise GanJaxError(
            f"InceptionV3 (FID) weights not found at {resolved} ({how}). gan_jax never "
            f"downloads them: get {WEIGHTS_FILENAME} from {WEIGHTS_URL} (or convert it to .npz "
            f"with `python -m gan_jax.metrics.features.inception_weights convert IN.pth OUT.npz`) and "
            f"pass its path (--inception_weights / eval.inception_weights), or set {WEIGHTS_ENV} "
            f"to it, or put it at {DEFAULT_WEIGHTS_PATH}")
    return resolved


def read_state_dict(path: PathLike) -> Dict[str, np.ndarray]:
    """The flat {torch key: array} in a pytorch-fid `.pth` (torch.save, read without torch) or a
    converted `.npz`; told apart by content, not by suffix."""
    source = os.fspath(path)
    is_npz = False
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
        is_npz = bool(names) and all(n.endswith(".npy") for n in names)
    if not is_npz:
        return load_state_dict(source)
    try:
        with np.load(source, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise GanJaxError(f"cannot read {source} as .npz ({err}); the file is corrupt: "
                          "convert the .pth again") from None


def load_inception_params(path: Optional[PathLike] = None) -> dict:
    """Flax variables {'params', 'batch_stats'} of the FID InceptionV3 from pytorch-fid's
    `.pth` or a converted `.npz`, found as `resolve_weights_path` says. Never downloads."""
    resolved = resolve_weights_path(path)
    return state_dict_to_variables(read_state_dict(resolved), source=str(resolved))


def convert(in_path: PathLike, out_path: PathLike) -> Dict[str, np.ndarray]:
    """Checks a pytorch-fid `.pth` (or `.npz`) and writes its state dict as `.npz` (float32,
    torch keys and layouts, num_batches_tracked dropped). Returns what it wrote."""
    state = read_state_dict(resolve_weights_path(in_path))
    state = variables_to_state_dict(state_dict_to_variables(state, source=os.fspath(in_path)))
    try:
        with open(os.fspath(out_path), "wb") as f:
            np.savez(f, **state)
    except OSError as err:
        raise GanJaxError(f"cannot write {os.fspath(out_path)}: {err}") from None
    return state


# ---------------------------------------------------------------------------------------------
# Command line: python -m gan_jax.metrics.features.inception_weights convert IN.pth OUT.npz

def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gan_jax.metrics.features.inception_weights",
        description="Tools for the FID InceptionV3 weights.")
    commands = parser.add_subparsers(dest="command", required=True)
    conv = commands.add_parser(
        "convert", help="check pytorch-fid's .pth and write it as .npz (no torch needed)")
    conv.add_argument("input", help=f"pytorch-fid's {WEIGHTS_FILENAME} (from {WEIGHTS_URL})")
    conv.add_argument("output", help="the .npz to write")
    args = parser.parse_args(argv)
    try:
        state = convert(args.input, args.output)
    except GanJaxError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {len(state)} arrays, "
          f"{sum(v.size for v in state.values()):,} numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
