"""Evaluation of a run's generator: what the trainer writes to eval.json (at the end, and as
`eval_*` rows of metrics.jsonl every `eval.every` steps) and what `python -m gan_jax.evaluate`
computes. Both go through one `Evaluator`, built once per run.

The family decides what is measured (`GANSpec.evaluators`, plug-ins in `gan_jax.evaluators`):
the 1-D toy's W1/KS, the 2-D mixtures' modes, the image metric set on MNIST LeNet or
InceptionV3 features, the conditional family's class accuracy and intra-class FID... The
Evaluator draws the n = eval.num_samples samples once per evaluation, with fixed evaluation keys
independent of training (batch i of the sampler uses key fold_in(fold_in(key(seed), EVAL_KEY),
i)), for the labels the family asks for, and passes them to every plug-in.
"""
from typing import Optional, Sequence, Union

import jax
import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalContext, EvalOptions, requested

EVAL_KEY = 0xE7A1
IMAGE_BATCH = 500           # generator batch for images (one compile for any n)


def generate(sample, g_variables, seed: int, n: int, batch: int, cond=None):
    """n samples from G with a fixed evaluation key (independent of the training keys), in
    full batches of `batch` (batch i uses key fold_in(eval_key, i)) cut to n; `cond` [n, ...]
    (labels, or input images) conditions sample j on cond[j] (the last batch is padded with
    zeros)."""
    key = jax.random.fold_in(jax.random.key(seed), EVAL_KEY)
    calls = -(-n // batch)
    if cond is not None:
        cond = np.asarray(cond)
        cond = np.concatenate([cond, np.zeros((calls * batch - n,) + cond.shape[1:],
                                              cond.dtype)])
    out = [np.asarray(sample(g_variables, jax.random.fold_in(key, i), batch) if cond is None
                      else sample(g_variables, jax.random.fold_in(key, i), batch,
                                  cond[i * batch:(i + 1) * batch]))
           for i in range(calls)]
    return np.concatenate(out)[:n]


class Evaluator:
    """Evaluates G variables of one run; builds the jitted sampler, the family's plug-ins and
    their feature networks once, so repeated (periodic) evaluations neither recompile nor reload.

    metrics / features: 'auto' (the family's choice), or names (`--metrics fid,kid`;
    'mnist' | 'inception'). num_samples: None = config.eval.num_samples. `data`: the training
    stream where the caller has it (else the splits are read when a plug-in needs them).
    """

    def __init__(self, spec, data, config, metrics: Union[str, Sequence[str]] = "auto",
                 features: str = "auto", num_samples: Optional[int] = None,
                 inception_weights: Optional[str] = None, baseline: bool = False):
        self.spec, self.config = spec, config
        self.n = int(num_samples or config.eval.num_samples)
        if self.n < 2:
            raise GanJaxError(f"num_samples must be at least 2, got {self.n}")
        options = EvalOptions(metrics=metrics, features=features,
                              inception_weights=inception_weights, baseline=baseline)
        self.context = EvalContext(config, data, options)
        if spec.evaluators is None:
            raise GanJaxError(f"the {config.gan.family!r} family names no evaluators")
        plan = spec.evaluators(self.context)
        self.plugins = list(plan.plugins)
        _check_requested(options, self.plugins, config.gan.family)
        self.cond = None if plan.conditions is None else np.asarray(plan.conditions(self.n))
        self.batch = IMAGE_BATCH if plan.sample_batch is None else (plan.sample_batch or self.n)
        self._sample = jax.jit(spec.sample, static_argnums=2)

    def samples(self, g_variables) -> np.ndarray:
        return generate(self._sample, g_variables, self.config.seed, self.n, self.batch,
                        self.cond)

    def __call__(self, g_variables) -> dict:
        fake = self.samples(g_variables)
        if not np.all(np.isfinite(fake)):
            raise GanJaxError(f"the generator produced {int(np.sum(~np.isfinite(fake)))} "
                              "non-finite values; the metrics would be meaningless")
        result = {"num_samples": self.n}
        self.context.g_variables = g_variables
        try:
            for plugin in self.plugins:
                for name, value in plugin(fake, self.cond):
                    if name == "skipped":
                        result.setdefault("skipped", {}).update(value)
                    else:
                        result[name] = value
        finally:
            self.context.end_evaluation()
        if self.context.real_subset_size() is not None:
            result["max_real"] = self.context.real_subset_size()
        return result

    def cache_sizes(self) -> dict:
        """Compiled programs held by the sampler and every feature network (a repeated
        evaluation must not add any)."""
        sizes = {"sampler": self._sample._cache_size()}
        for name, extractor in self.context.extractors().items():
            forward = getattr(extractor, "_forward", None) or getattr(extractor, "_network")
            sizes[name] = forward._cache_size()
        return sizes


def _check_requested(options: EvalOptions, plugins, family: str):
    """Every metric asked for by name is answered by one of the family's plug-ins."""
    names = requested(options)
    if names is None:
        return
    known = [n for p in plugins for n in getattr(p, "known", ())]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GanJaxError(f"unknown metric(s) {unknown} for this run (family {family!r}); "
                          f"valid: {','.join(known) or 'none (this data has its own fixed set)'} "
                          "(comma-separated, e.g. --metrics fid,kid)")
