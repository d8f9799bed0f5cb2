"""Import time of ``function_app`` next to ``import azure.functions`` alone, each in fresh subprocesses.

Each sample is one new interpreter timing its own import with perf_counter (interpreter start-up excluded).
Two modes, because both happen in production: with bytecode caches (``.pyc`` written to a temporary
PYTHONPYCACHEPREFIX by a warm-up run) and from source only (PYTHONDONTWRITEBYTECODE=1 and no cache, as on a
read-only package mount without precompiled files). Prints the median of N for both imports and the ratio.
Run: .venv/bin/python benchmarks/import_time.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def sample(module: str, env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1]) * 1000


def measure(label: str, env: dict[str, str], n: int) -> None:
    sample("azure.functions", env), sample("function_app", env)  # warm-up (writes the caches when allowed)
    baseline, ours = [], []
    for _ in range(n):  # interleaved so machine noise hits both alike
        baseline.append(sample("azure.functions", env))
        ours.append(sample("function_app", env))
    b, o = statistics.median(baseline), statistics.median(ours)
    print(f"[{label}]")
    print(f"  import azure.functions : {b:7.1f} ms (median of {n})")
    print(f"  import function_app    : {o:7.1f} ms (median of {n}; includes azure.functions)")
    print(f"  ratio                  : {o / b:.2f}x; sioless + samples add {o - b:.1f} ms")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    with tempfile.TemporaryDirectory(prefix="sioless-pyc-") as cache:
        measure("with .pyc caches", {**base, "PYTHONPYCACHEPREFIX": cache}, n)
    with tempfile.TemporaryDirectory(prefix="sioless-nopyc-") as empty:
        # An empty prefix and no writes: every module (ours and azure.functions) is compiled from source.
        measure("source only, no .pyc", {**base, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}, n)


if __name__ == "__main__":
    main()
