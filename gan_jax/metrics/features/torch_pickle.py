"""Read a PyTorch state dict (a `torch.save` file, `.pth`) into numpy arrays, without torch.

`torch.save` writes one of two layouts, both handled here:

- the zip archive (PyTorch >= 1.6): `<name>/data.pkl` holds the pickled object, in which each
  tensor's storage is a *persistent id* `('storage', <dtype class>, key, location, numel)`;
  the raw bytes of storage `key` are the archive entry `<name>/data/<key>`, and
  `<name>/byteorder` ('little' or 'big', absent in older files: little) their byte order;
- the legacy stream (PyTorch < 1.6, e.g. pytorch-fid's 2019 Inception weights): five pickles
  in a row (magic number, protocol version, system info with the byte order, the object, the
  sorted list of storage keys), then each storage as an int64 element count followed by its
  raw bytes, in the order of that list.

Tensors are pickled as calls `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
...)`. The unpickler below is restricted: it resolves only those rebuild functions, the typed
storage classes (`torch.FloatStorage`...), `torch.Size` and `collections.OrderedDict`, and turns
each tensor into a numpy array with the same offset, shape and strides (in elements) over its
storage. Any other global (code a crafted file could run) is refused, so reading an untrusted
file executes nothing. Every problem raises `GanJaxError`.
"""
import collections
import io
import os
import pickle
import struct
import zipfile
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

import numpy as np

from gan_jax.errors import GanJaxError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C   # torch.serialization.MAGIC_NUMBER
LEGACY_PROTOCOL = 1001                   # torch.serialization.PROTOCOL_VERSION


def _bfloat16():
    import ml_dtypes  # a jax dependency
    return np.dtype(ml_dtypes.bfloat16)


# torch.<Name>Storage -> numpy dtype (bfloat16 through ml_dtypes, resolved when met).
_STORAGE_DTYPES: Dict[str, Callable[[], np.dtype]] = {
    "FloatStorage": lambda: np.dtype(np.float32),
    "DoubleStorage": lambda: np.dtype(np.float64),
    "HalfStorage": lambda: np.dtype(np.float16),
    "BFloat16Storage": _bfloat16,
    "LongStorage": lambda: np.dtype(np.int64),
    "IntStorage": lambda: np.dtype(np.int32),
    "ShortStorage": lambda: np.dtype(np.int16),
    "CharStorage": lambda: np.dtype(np.int8),
    "ByteStorage": lambda: np.dtype(np.uint8),
    "BoolStorage": lambda: np.dtype(np.bool_),
}


class _StorageType(NamedTuple):
    """Stands for a `torch.<Name>Storage` class inside the pickle."""
    name: str
    dtype: np.dtype


class _StorageRef(NamedTuple):
    """A storage named by a persistent id: its bytes are read after unpickling."""
    key: str
    dtype: np.dtype
    numel: int
    view: Optional[Tuple[int, int]]     # legacy views: (element offset, numel) into `key`


class _TensorRef(NamedTuple):
    """A tensor to build once the storages are read."""
    storage: _StorageRef
    offset: int
    size: Tuple[int, ...]
    stride: Tuple[int, ...]


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    return _TensorRef(storage, int(storage_offset), tuple(int(s) for s in size),
                      tuple(int(s) for s in stride))


def _rebuild_parameter(data, *unused):
    return data


_GLOBALS: Dict[Tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): tuple,
}


class _Unpickler(pickle.Unpickler):
    """Resolves only the globals a state dict of plain tensors needs."""

    def __init__(self, file, source: str):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name, _STORAGE_DTYPES[name]())
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise GanJaxError(
                f"{self.source} holds a {module}.{name} object; gan_jax reads only state dicts "
                "of tensors (torch.save(model.state_dict(), path)). Save the state dict, or "
                "convert the file to .npz with torch installed") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise GanJaxError(f"{self.source}: unexpected persistent id {pid!r} "
                              "(not a torch.save file, or a newer layout)")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise GanJaxError(f"{self.source}: storage of unsupported type {storage_type!r}")
        view = pid[5] if len(pid) > 5 else None
        if view is not None:                 # legacy (view_key, offset, view_numel)
            view = (int(view[1]), int(view[2]))
        return _StorageRef(str(key), storage_type.dtype, int(numel), view)


def _materialize(ref: _TensorRef, storages: Dict[str, np.ndarray], source: str) -> np.ndarray:
    """The numpy array (a copy) that `ref` describes over its storage's elements."""
    store = ref.storage
    try:
        flat = storages[store.key]
    except KeyError:
        raise GanJaxError(f"{source}: storage {store.key!r} is missing (truncated or corrupt "
                          "file)") from None
    if store.view is not None:
        flat = flat[store.view[0]:store.view[0] + store.view[1]]
    if len(ref.size) != len(ref.stride) or any(s < 0 for s in ref.size + ref.stride):
        raise GanJaxError(f"{source}: malformed tensor size {ref.size} / stride {ref.stride}")
    if 0 in ref.size:
        return np.zeros(ref.size, flat.dtype)
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
    if ref.offset < 0 or last >= flat.size:
        raise GanJaxError(f"{source}: a tensor of size {ref.size} reaches element {last} of a "
                          f"storage of {flat.size} (truncated or corrupt file)")
    view = np.lib.stride_tricks.as_strided(
        flat[ref.offset:], shape=ref.size,
        strides=tuple(s * flat.itemsize for s in ref.stride), writeable=False)
    return np.array(view)


def _build(obj, storages: Dict[str, np.ndarray], source: str):
    """`obj` with every _TensorRef replaced by its array (dicts, lists and tuples walked)."""
    if isinstance(obj, _TensorRef):
        return _materialize(obj, storages, source)
    if isinstance(obj, dict):
        return type(obj)((k, _build(v, storages, source)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_build(v, storages, source) for v in obj)
    return obj


def _storage_refs(obj, found: Dict[str, _StorageRef]) -> Dict[str, _StorageRef]:
    if isinstance(obj, _TensorRef):
        found.setdefault(obj.storage.key, obj.storage)
    elif isinstance(obj, dict):
        for v in obj.values():
            _storage_refs(v, found)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _storage_refs(v, found)
    return found


def _from_bytes(data: bytes, dtype: np.dtype, numel: int, big_endian: bool, source: str,
                key: str) -> np.ndarray:
    need = numel * dtype.itemsize
    if len(data) < need:
        raise GanJaxError(f"{source}: storage {key!r} has {len(data)} bytes, expected {need} "
                          "(truncated or corrupt file)")
    flat = np.frombuffer(data, dtype.newbyteorder(">" if big_endian else "<"), count=numel)
    return flat.astype(dtype)      # native byte order, and a writeable copy


def _read_zip(archive: zipfile.ZipFile, source: str):
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pickles) != 1:
        raise GanJaxError(f"{source} is a zip archive but not a torch.save file "
                          f"(expected one data.pkl entry, found {len(pickles)})")
    prefix = pickles[0][:-len("data.pkl")]
    big_endian = False
    if prefix + "byteorder" in archive.namelist():
        big_endian = archive.read(prefix + "byteorder").strip() == b"big"
    obj = _Unpickler(io.BytesIO(archive.read(pickles[0])), source).load()
    storages = {}
    for key, ref in _storage_refs(obj, {}).items():
        try:
            data = archive.read(f"{prefix}data/{key}")
        except KeyError:
            raise GanJaxError(f"{source}: storage entry data/{key} is missing (truncated or "
                              "corrupt file)") from None
        storages[key] = _from_bytes(data, ref.dtype, ref.numel, big_endian, source, key)
    return obj, storages


def _read_legacy(stream, source: str):
    def load():
        return _Unpickler(stream, source).load()
    if load() != LEGACY_MAGIC:
        raise GanJaxError(f"{source} is not a torch.save file (neither a zip archive nor the "
                          "legacy format's magic number)")
    if load() != LEGACY_PROTOCOL:
        raise GanJaxError(f"{source}: unsupported legacy torch.save protocol version")
    sys_info = load()
    big_endian = not sys_info.get("little_endian", True)
    obj = load()
    keys = load()
    refs = _storage_refs(obj, {})
    storages = {}
    for key in keys:
        header = stream.read(8)
        if len(header) != 8:
            raise GanJaxError(f"{source}: truncated before storage {key!r}")
        numel = struct.unpack(">q" if big_endian else "<q", header)[0]
        if key not in refs:
            raise GanJaxError(f"{source}: storage {key!r} is not used by any tensor "
                              "(corrupt file)")
        dtype = refs[key].dtype
        data = stream.read(numel * dtype.itemsize)
        storages[key] = _from_bytes(data, dtype, numel, big_endian, source, key)
    return obj, storages


def load_torch_file(path: "os.PathLike | str") -> Any:
    """The object `torch.save` wrote to `path`, with every tensor a numpy array.

    Raises GanJaxError for a missing, truncated or corrupt file, or one that holds anything
    other than (nested dicts, lists and tuples of) tensors and plain Python values.
    """
    source = os.fspath(path)
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                obj, storages = _read_zip(archive, source)
        else:
            with open(source, "rb") as stream:
                obj, storages = _read_legacy(stream, source)
    except GanJaxError:
        raise
    except FileNotFoundError:
        raise GanJaxError(f"no such file: {source}") from None
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, TypeError,
            AttributeError, IndexError, struct.error, OSError) as err:
        raise GanJaxError(f"cannot read {source} as a torch.save file "
                          f"({type(err).__name__}: {err}); the file is truncated or corrupt, "
                          "or not a PyTorch state dict") from None
    return _build(obj, storages, source)


def load_state_dict(path: "os.PathLike | str") -> Dict[str, np.ndarray]:
    """A `torch.save(model.state_dict(), path)` file as {key: numpy array}, in file order."""
    obj = load_torch_file(path)
    if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items()):
        raise GanJaxError(f"{os.fspath(path)} does not hold a state dict (a flat dict of "
                          f"tensors by name) but a {type(obj).__name__}")
    return dict(obj)
