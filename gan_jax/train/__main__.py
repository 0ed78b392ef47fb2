"""Command line: python -m gan_jax.train --config experiments/configs/NAME.py --workdir DIR

Overrides: --config.train.steps=2000 --config.loss.g_loss=saturating ... (ml_collections
config_flags; a mistyped key fails with "Did you mean ...?"). `--config=NAME` is short for
experiments/configs/NAME.py. Running again on a workdir with a checkpoint resumes from it.
"""
import difflib
import importlib.util
import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from gan_jax.errors import GanJaxError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIG_DIR = os.path.join(ROOT, "experiments", "configs")
if ROOT not in sys.path:  # configs may import each other as experiments.configs.NAME
    sys.path.append(ROOT)


def available_configs(config_dir: str = CONFIG_DIR):
    return sorted(f[:-3] for f in os.listdir(config_dir)
                  if f.endswith(".py") and not f.startswith("_"))


def resolve_config_arg(argv, config_dir: str = CONFIG_DIR):
    """Expand --config=NAME to its file; fail with the valid names for an unknown experiment."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg.startswith("--config=") or arg == "--config":
            value = arg.split("=", 1)[1] if "=" in arg else (out[i + 1] if i + 1 < len(out) else "")
            path = value.split(":", 1)[0]
            if not os.path.isfile(path):
                candidate = os.path.join(config_dir, f"{path}.py")
                if not os.path.isfile(candidate):
                    raise GanJaxError(f"unknown experiment config {path!r}; valid: "
                                      f"{available_configs(config_dir)} (in experiments/configs/)")
                value = candidate + value[len(path):]
                if "=" in arg:
                    out[i] = "--config=" + value
                else:
                    out[i + 1] = value
    return out


def _load_config(path: str):
    spec = importlib.util.spec_from_file_location("_gan_jax_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def check_override_keys(argv):
    """Fail on an unknown --config.KEY before anything runs, listing the valid keys beside it."""
    paths = [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
    paths += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--config"]
    overrides = [a[len("--config."):].split("=", 1)[0] for a in argv if a.startswith("--config.")]
    if not paths or not overrides:
        return
    config = _load_config(paths[0].split(":", 1)[0])
    for key in overrides:
        node, walked = config, []
        for part in key.split("."):
            fields = list(node.keys()) if hasattr(node, "keys") else []
            if part not in fields:
                where = ".".join(walked) or "the config"
                close = difflib.get_close_matches(part, fields, n=1)
                hint = f" Did you mean {'.'.join(walked + close)!r}?" if close else ""
                raise GanJaxError(f"unknown config key {key!r}: {where} has no {part!r}; valid "
                                  f"keys there: {sorted(fields)}.{hint}")
            node, walked = node[part], walked + [part]


FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "experiment config file", lock_config=True)
flags.DEFINE_string("workdir", None, "run directory (created; resumed if it has a checkpoint)")
flags.DEFINE_bool("overwrite", False, "accept a config that differs from the workdir's")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
    from gan_jax.train.loop import train
    try:
        _, results = train(FLAGS.config, FLAGS.workdir, overwrite=FLAGS.overwrite)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    print({k: v for k, v in results.items() if not isinstance(v, list)})


if __name__ == "__main__":
    try:
        sys.argv = resolve_config_arg(sys.argv)
        check_override_keys(sys.argv)
    except GanJaxError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    app.run(main)
