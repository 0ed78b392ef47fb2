"""Evaluation of unpaired translation (CycleGAN) on the held-out images of both domains.

The Evaluator's samples are G(a) for the held-out A-images in order (sample i translates input
i mod N_A); this plug-in also runs F on every held-out B-image and both reconstructions, with
the generator variables under evaluation (`EvalContext.g_variables`).

- every data set: `cycle_l1_a` = mean |F(G(a)) - a| and `cycle_l1_b` = mean |G(F(b)) - b|
  ([0, 1] units, as Pix2Pix's l1);
- `digits_mnist` (labels known, never trained on): **label preservation** `label_acc_ab`, the
  shipped MNIST LeNet's accuracy on G(a) against a's labels, and `label_acc_ba`, the digits
  classifier's accuracy on F(b) against b's labels (`gan_jax.metrics.features.
  domain_classifiers`); `fid_ab`, the Fréchet distance on LeNet features between G(a) and the
  held-out real MNIST digits. With `--baseline`, the same classifiers on the untranslated
  inputs (`real_label_acc_ab`: LeNet on the sklearn digits themselves, what translation must
  beat; `real_label_acc_ba`: the digits classifier on the MNIST digits), their own domains'
  accuracies (`real_acc_a`, `real_acc_b`) and `real_fid_ab` (the sklearn digits against MNIST);
- `grass_gravel`: `target_frac_ab`, the fraction of G(a) the texture classifier judges as
  gravel, and `target_frac_ba`, of F(b) judged as grass (with `--baseline`: the same on the
  untranslated inputs, `real_target_frac_*`, and the classifier's accuracy on the real crops).
"""
import functools
import json

import jax
import numpy as np

from gan_jax.errors import GanJaxError
from gan_jax.evaluators import EvalPlan
from gan_jax.metrics import image_quality
from gan_jax.metrics.frechet import frechet_distance, gaussian_statistics
from gan_jax.pixels import to_model_range

SAMPLE_BATCH = 50       # translations per generator call


@functools.lru_cache(maxsize=2)
def _held_out(data_json: str) -> dict:
    import ml_collections
    from gan_jax.registry import load_unpaired
    return load_unpaired(ml_collections.ConfigDict({"data": json.loads(data_json)}), "test")


def held_out_records(config) -> dict:
    """The held-out images of both domains of config.data, as stored (uint8 'a', 'b', and
    'a_label', 'b_label' where known); read once per process for each data config."""
    return _held_out(json.dumps(config.data.to_dict(), sort_keys=True, default=str))


def held_out_domains(config):
    """(A-images, B-images) held out, in [-1, 1]."""
    records = held_out_records(config)
    return to_model_range(records["a"]), to_model_range(records["b"])


def _repeat(x, n):
    return np.take(x, np.arange(n) % len(x), axis=0)


def _translate(fn, g_variables, x):
    """fn(g, key, n, x) over x in padded batches of SAMPLE_BATCH (one compile for any size)."""
    from gan_jax.evaluation import generate
    return generate(fn, g_variables, 0, len(x), SAMPLE_BATCH, x)


def _accuracy(classifier, images, labels) -> float:
    return float(np.mean(np.asarray(classifier.classify(images)) == labels))


class UnpairedScores:
    known = ("cycle_l1_a", "cycle_l1_b", "label_acc_ab", "label_acc_ba", "fid_ab",
             "target_frac_ab", "target_frac_ba")

    def __init__(self, context, spec, records):
        self.context, self.records, self.name = context, records, context.config.data.name
        self.a, self.b = to_model_range(records["a"]), to_model_range(records["b"])
        self._sample = jax.jit(spec.sample, static_argnums=2)
        self._reverse = jax.jit(spec.reverse, static_argnums=2)

    def __call__(self, fake, cond):
        g = self.context.g_variables
        if g is None:
            raise GanJaxError("the unpaired scores run F, and need the generator variables "
                              "under evaluation (EvalContext.g_variables)")
        yield "cycle_l1_a", image_quality.l1(_translate(self._reverse, g, fake), cond)
        fake_a = _translate(self._reverse, g, self.b)
        yield "cycle_l1_b", image_quality.l1(_translate(self._sample, g, fake_a), self.b)
        if self.name == "digits_mnist":
            yield from self._digits(fake, fake_a)
        elif self.name == "grass_gravel":
            yield from self._textures(fake, fake_a)

    def _digits(self, fake_b, fake_a):
        from gan_jax.metrics.features.domain_classifiers import digits_classifier
        lenet, digits = self.context.extractor("mnist"), digits_classifier()
        a_label = _repeat(self.records["a_label"], len(fake_b))
        b_label = self.records["b_label"]
        yield "label_acc_ab", _accuracy(lenet, fake_b, a_label)
        yield "label_acc_ba", _accuracy(digits, fake_a, b_label)
        real_b = lenet(self.b).features
        stats_b = gaussian_statistics(real_b)
        yield "fid_ab", frechet_distance(*gaussian_statistics(lenet(fake_b).features), *stats_b)
        if self.context.options.baseline:
            yield "real_label_acc_ab", _accuracy(lenet, self.a, self.records["a_label"])
            yield "real_label_acc_ba", _accuracy(digits, self.b, b_label)
            yield "real_acc_a", _accuracy(digits, self.a, self.records["a_label"])
            yield "real_acc_b", _accuracy(lenet, self.b, b_label)
            yield "real_fid_ab", frechet_distance(*gaussian_statistics(lenet(self.a).features),
                                                  *stats_b)

    def _textures(self, fake_b, fake_a):
        from gan_jax.metrics.features.domain_classifiers import texture_classifier
        texture = texture_classifier()      # 0 grass (A), 1 gravel (B)
        yield "target_frac_ab", float(np.mean(np.asarray(texture.classify(fake_b)) == 1))
        yield "target_frac_ba", float(np.mean(np.asarray(texture.classify(fake_a)) == 0))
        if self.context.options.baseline:
            yield "real_target_frac_ab", float(np.mean(np.asarray(texture.classify(self.a)) == 1))
            yield "real_target_frac_ba", float(np.mean(np.asarray(texture.classify(self.b)) == 0))


def cycle_plan(context, spec, data) -> EvalPlan:
    """The unpaired scores and the held-out A-images to translate."""
    records = held_out_records(context.config)
    if len(records["a"]) == 0 or len(records["b"]) == 0:
        raise GanJaxError(f"{data.name!r} has no held-out images in one of its domains")
    inputs = to_model_range(records["a"])
    return EvalPlan([UnpairedScores(context, spec, records)],
                    conditions=lambda n: _repeat(inputs, n), sample_batch=SAMPLE_BATCH)
