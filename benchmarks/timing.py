"""Timing helpers shared by the benchmark scripts."""

import time

import numpy as np


def time_ms(function, repeats: int, warmup: int = 5) -> np.ndarray:
    """Milliseconds of each of `repeats` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        function()
    times = np.empty(repeats)
    for i in range(repeats):
        started = time.perf_counter()
        function()
        times[i] = (time.perf_counter() - started) * 1000
    return times


def p50_p99(times_ms: np.ndarray) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(times_ms, 50)), 4), "p99_ms": round(float(np.percentile(times_ms, 99)), 4)}
