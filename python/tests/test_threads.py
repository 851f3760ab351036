"""The GIL is released during native calls: another Python thread makes progress while an encode
runs inside libsvae, and threads sharing one Model get the results of a serial run.

The probe is a thread that sleeps 1 ms and increments a counter, forever. While it runs, the
interpreter's switch interval is raised to 1000 s, so no thread is ever forced to give up the GIL:
it changes hands only when its holder blocks (the probe's sleep, a ctypes call through CDLL). The
counter is read right before and right after the foreign call: a call that keeps the GIL sees
exactly 0 ticks, whatever the machine's load; a call that releases it lets the probe tick. The
control (the same C function through ctypes.PyDLL, which keeps the GIL) shows the measure tells
the two apart. No durations are asserted."""
import ctypes
import sys
import threading
import time

import numpy as np
import pytest

import svae
from svae import _library

N_TEXTS = 500


def batch(n=N_TEXTS):
    return [f"s{i} of the cat." for i in range(n)]


class Probe:
    def __init__(self):
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            time.sleep(0.001)
            self.count += 1

    def __enter__(self):
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._interval)


def wrap_native(monkeypatch, lib, name, probe, record):
    """Counts probe ticks exactly around the foreign function `name` of `lib`."""
    real = getattr(lib, name)

    def wrapped(*args):
        before = probe.count
        status = real(*args)
        record.append(probe.count - before)
        return status

    monkeypatch.setattr(lib, name, wrapped)


def test_native_encode_runs_while_another_thread_makes_progress(model, monkeypatch):
    texts = batch()
    record = []
    with Probe() as probe:
        wrap_native(monkeypatch, model._lib, "svae_encode_texts", probe, record)
        for _ in range(10):
            model.encode(texts)
            if max(record) > 0:
                break
    assert max(record) > 0, f"probe ticks during each native encode: {record}"


def test_control_a_gil_holding_call_stops_the_probe(model):
    # The same C function loaded through PyDLL keeps the GIL: the probe must not tick during it.
    held = ctypes.PyDLL(svae.library_path())
    f = held.svae_encode_texts
    f.restype, f.argtypes = _library._signatures()["svae_encode_texts"]
    ctx = model._context()
    texts = [t.encode() for t in batch()]
    arr = (ctypes.c_char_p * len(texts))(*texts)
    out = np.empty((len(texts), model.hidden_size), dtype=np.float32)
    n = ctypes.c_size_t(0)
    record = []
    with Probe() as probe:
        for _ in range(3):
            before = probe.count
            assert f(ctx.handle, arr, len(texts), out.ctypes.data_as(_library.c_float_p), out.size, ctypes.byref(n)) == 0
            record.append(probe.count - before)
    assert record == [0, 0, 0], f"probe ticks during GIL-holding calls: {record}"
    assert np.array_equal(out, model.encode(batch()))


def test_threads_sharing_a_model_encode_at_once_and_agree(model, monkeypatch):
    texts = batch()
    serial = model.encode(texts)
    results, errors, record = {}, [], []

    def worker(i):
        try:
            results[i] = model.encode(texts)  # each thread gets its own native context
        except Exception as e:  # reported below
            errors.append(e)

    with Probe() as probe:
        wrap_native(monkeypatch, model._lib, "svae_encode_texts", probe, record)
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    assert sorted(results) == [0, 1, 2, 3]
    for r in results.values():
        assert np.array_equal(r, serial)
    assert len(record) == 4
