"""Timing helpers shared by the benchmark scripts."""

import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

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
    return {
        "p50_ms": round(float(np.percentile(times_ms, 50)), 4),
        "p99_ms": round(float(np.percentile(times_ms, 99)), 4),
    }


def cpu_name() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it (platform's guess elsewhere)."""
    return next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )


def machine_line(load_before: float) -> str:
    """Date, CPU, cores, Python and how busy the (shared) machine was: the line a table needs."""
    cpu = cpu_name()
    return (
        f"{datetime.now(UTC):%Y-%m-%d}, {cpu} ({platform.machine()}), {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
