"""Code run inside a fresh interpreter of one version of promoctl, for what the wall time of
a process cannot show: peak memory, and promoctl's parser with libyaml against pure
Python.

The memory probe calls the version's console entry point (from its own pyproject.toml),
the public way in, so it works on any version. The parser probe is the one place a version
is measured through promoctl's internals: it imports the first module of
``PARSER_MODULES`` that the version has (``parse(raw, name, pure=...)`` and
``HAVE_LIBYAML``).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .processes import Run, clear_caches, run
from .sizes import PARSER_SAMPLE
from .versions import Version

# Where each version of promoctl keeps its YAML parser, newest layout first.
PARSER_MODULES = ("promoctl.records.yamlio", "promoctl.yamlio")

_ENTRY_PROBE = r"""
import importlib, json, sys, time

def hwm():
    # Linux keeps ru_maxrss across exec, so a child could report its parent's peak; the
    # high-water mark of this process's own memory map (VmHWM) does not have that flaw.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return None
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024

report, entry, *args = sys.argv[1:]
module, _, function = entry.partition(":")
t0 = time.perf_counter()
main = getattr(importlib.import_module(module), function)
before = hwm()
t1 = time.perf_counter()
sys.argv = ["promoctl", *args]
try:
    code = main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
t2 = time.perf_counter()
try:  # the largest worker process (they share the parent's pages until they write them)
    import resource
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    workers = workers if sys.platform == "darwin" else workers * 1024
except ImportError:
    workers = None
sys.stdout.flush()
with open(report, "w") as fh:
    json.dump({"code": code, "imports": t1 - t0, "seconds": t2 - t1, "before": before,
               "peak": hwm(), "worker_peak": workers}, fh)
"""

_PARSER_PROBE = r"""
import importlib, json, sys, time
for name in sys.argv[2:]:
    try:
        yamlio = importlib.import_module(name)
        break
    except ImportError:
        continue
else:
    raise SystemExit("none of these modules exists: " + ", ".join(sys.argv[2:]))
with open(sys.argv[1], encoding="utf-8") as fh:
    files = json.load(fh)
blobs = []
for path, name in files:
    with open(path, "rb") as fh:
        blobs.append((fh.read(), name))
t0 = time.perf_counter()
for raw, name in blobs:
    yamlio.parse(raw, name)
t1 = time.perf_counter()
for raw, name in blobs:
    yamlio.parse(raw, name, pure=True)
t2 = time.perf_counter()
print(json.dumps({"fast": t1 - t0, "pure": t2 - t1, "files": len(blobs),
                  "libyaml": bool(getattr(yamlio, "HAVE_LIBYAML", False))}))
"""


def entry_probe(version: Version, args: Sequence[str], cwd: Path,
                env: dict[str, str] | None = None) -> tuple[dict[str, Any], Run]:
    """``promoctl ARGS`` through the version's entry point in a fresh interpreter: its
    exit code, import and run times, peak memory (and its output, in the Run)."""
    with tempfile.TemporaryDirectory(prefix="promoctl-bench-probe-") as tmp:
        report = Path(tmp) / "probe.json"
        done = run([sys.executable, "-c", _ENTRY_PROBE, str(report), version.entry, *args],
                   cwd, env or version.env())
        if not report.is_file():
            raise RuntimeError(f"{version.name}: probe of promoctl {' '.join(args)} failed: "
                               f"{done.err[-2000:]}")
        result: dict[str, Any] = json.loads(report.read_text())
    result["wall"] = done.seconds
    return result, done


def memory_probe(version: Version, root: Path | None = None) -> dict[str, Any]:
    """``promoctl validate`` in a fresh interpreter with caches cleared: its peak resident
    memory and times (on ``root`` when given, else on the version's copy)."""
    clear_caches(version, root)
    where = root or version.root
    result, _ = entry_probe(version, ["validate", "--repo", str(where)], where)
    return result


def parser_probe(version: Version, files: Sequence[Path], root: Path, seed: int
                 ) -> dict[str, Any]:
    """promoctl's parser with libyaml and pure Python, on the same sample (I/O excluded)."""
    sample = random.Random(seed).sample(list(files), min(PARSER_SAMPLE, len(files)))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump([(str(p), p.relative_to(root).as_posix()) for p in sample], fh)
    try:
        done = run([sys.executable, "-c", _PARSER_PROBE, fh.name, *PARSER_MODULES], root,
                   version.env())
    finally:
        Path(fh.name).unlink()
    if done.code != 0:
        raise RuntimeError(f"{version.name}: parser probe failed: {done.err[-1000:]}")
    found: dict[str, Any] = json.loads(done.out.strip().splitlines()[-1])
    return found
