"""Batches read ahead by worker processes (`data.read_workers`): the same batches, sooner.

A stream's batches are a pure function of the position, so the calls that follow the one being
read are known in advance. `Prefetched(stream, workers)` answers `batches(position, count, B,
rows)` and at once hands the next `workers` calls (position + count * B, ...) to a pool of
worker processes, each holding its own copy of the stream. One core decodes ~10,000 32x32
records a second (experiments/bench_data.py); a host whose accelerators consume more reads with
several workers. A call that was not foreseen (the first, or after a jump) is read here.

Everything else (`info`, `transform`, `size`...) is the stream's own.
"""
import collections
import concurrent.futures
import multiprocessing

_STREAM = None      # the worker's copy of the stream


def _start(stream) -> None:
    global _STREAM
    _STREAM = stream


def _read(args):
    return _STREAM.batches(*args)


class Prefetched:
    """`stream`, with its next `workers` calls read ahead by as many spawned worker processes."""

    def __init__(self, stream, workers: int):
        self.stream, self.workers = stream, int(workers)
        self._pool = None
        self._ahead = collections.OrderedDict()   # (position, count, B, rows) -> future

    def __getattr__(self, name):          # only for what this class does not define
        if name == "stream":
            raise AttributeError(name)
        return getattr(self.stream, name)

    def batches(self, position: int, count: int, batch_size: int, rows=None) -> dict:
        rows_key = None if rows is None else tuple(int(r) for r in rows)

        def key(p):
            return (int(p), int(count), int(batch_size), rows_key)

        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, multiprocessing.get_context("spawn"),
                initializer=_start, initargs=(self.stream,))
        future = self._ahead.pop(key(position), None)
        if future is None:                    # not foreseen: drop the stale reads, read here
            for stale in self._ahead.values():
                stale.cancel()
            self._ahead.clear()
        step = count * batch_size
        for i in range(1, 2 * self.workers + 1):      # two per worker: none waits for work
            k = key(position + i * step)
            if k not in self._ahead:
                self._ahead[k] = self._pool.submit(_read, (k[0], count, batch_size, rows))
        if future is None:
            return self.stream.batches(position, count, batch_size, rows)
        return future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            self._ahead.clear()
