"""Shared helpers for the benchmarks: paths relative to the repository, machine description, peak
memory, medians of repeated timings, and atomic JSON results."""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


CORPUS = ROOT / "labels" / "corpus"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def corpus_pieces(corpus: Path = CORPUS, min_words: int = 4) -> tuple[list[str], list[str]]:
    """Titles and sentences of the shipped corpus, to build synthetic articles from."""
    titles, sentences = [], []
    for path in sorted(corpus.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                if record.get("title"):
                    titles.append(record["title"])
                sentences += [" ".join(s.split()) for s in _SENTENCE.split(record.get("text", ""))
                              if len(s.split()) >= min_words]
    if not sentences:
        raise SystemExit(f"no sentences found under {corpus}")
    return titles, sentences


def peak_rss_bytes(pid: int) -> int:
    """Peak resident memory in bytes of a live process since its exec (Linux VmHWM), else 0."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_measured(command: list[str], stdout=subprocess.DEVNULL) -> dict:
    """Run a subprocess; its wall time, peak RSS and stdout/stderr text."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        hwm = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            hwm = max(hwm, peak_rss_bytes(process.pid))
            time.sleep(0.02)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        peak = hwm or usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return {"code": code, "wall_s": wall, "peak_rss_mb": peak / 2**20,
                "stderr": err.read().decode("utf-8", "replace"),
                "stdout_tail": out.read()[-4000:].decode("utf-8", "replace")}


def machine() -> dict:
    """Cores, memory, CPU model and library versions: what a reader needs to compare figures."""
    info = {"python": platform.python_version(), "platform": f"{platform.system()} "
            f"{platform.machine()}", "cpus": os.cpu_count()}
    try:
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        import psutil

        info["ram_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("riskcls", "numpy", "scipy", "scikit-learn", "fasttext-numpy2"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    info["versions"] = versions
    return info


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def current_rss_mb() -> float:
    try:
        import psutil

        return round(psutil.Process().memory_info().rss / 2**20, 1)
    except ImportError:
        return float("nan")


def timed(function: Callable, repeat: int = 3) -> tuple[float, list[float], object]:
    """Median wall seconds of `repeat` calls, every timing, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), [round(t, 4) for t in times], result


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_default) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _default(value):
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def single_thread_blas():
    """A context manager limiting BLAS/OpenMP pools to one thread (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1)
    except ImportError:
        from contextlib import nullcontext

        return nullcontext()
