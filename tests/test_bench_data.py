"""Smoke test of experiments/bench_data.py on a small synthetic set: it prepares the set through
tfds, and each pipeline mode reads the same batches and reports a rate and a peak memory."""
import numpy as np

from experiments import bench_data


def test_bench_data_pipeline_modes(tmp_path):
    version_dir = bench_data.prepare(str(tmp_path), 600)
    assert bench_data.prepare(str(tmp_path), 600) == version_dir      # prepared once
    for mode in ("stream", "stream_half", "memory"):
        out = bench_data.pipeline(version_dir, mode, seconds=0.2, warmup=0.1)
        assert out["size"] == 600 and out["images_per_s"] > 0 and out["peak_rss_mb"] > 0
    streamed = bench_data._stream(version_dir, "stream").batches(500, 2, 64)
    held = bench_data._stream(version_dir, "memory").batches(500, 2, 64)
    for k in held:
        np.testing.assert_array_equal(streamed[k], held[k])
