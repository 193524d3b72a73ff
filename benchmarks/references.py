"""The references the figures are compared with, which no version of promoctl runs:
PyYAML's C loader on every record file, the least an audit must do with git and that
loader, and check-jsonschema with the project's ``schemas/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from .processes import Run, run
from .sizes import SCHEMAS

_C_REFERENCE = r"""
import sys, time, yaml
t0 = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as fh:
    paths = fh.read().splitlines()
for path in paths:
    with open(path, "rb") as fh:
        yaml.load(fh.read(), Loader=yaml.CSafeLoader)
print(time.perf_counter() - t0)
"""


def c_reference(files: Sequence[Path], root: Path) -> Run:
    """Read and parse ``files`` with PyYAML's C loader in one fresh process."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(str(p) for p in files))
    try:
        return run([sys.executable, "-c", _C_REFERENCE, fh.name], root)
    finally:
        os.unlink(fh.name)


class CatFile:
    """One ``git cat-file --batch`` for every read; requests are written by a thread so
    neither pipe can fill up while the other waits."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, keys: Sequence[str]) -> list[tuple[str | None, bytes | None]]:
        """(object id, content) for each ``rev:path``; (None, None) when missing."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        stdin, stdout = self.proc.stdin, self.proc.stdout

        def feed() -> None:
            stdin.write("".join(f"{k}\n" for k in keys).encode())
            stdin.flush()

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        out: list[tuple[str | None, bytes | None]] = []
        for _ in keys:
            header = stdout.readline().split()
            if len(header) == 3:
                data = stdout.read(int(header[2]) + 1)[:-1]
                out.append((header[0].decode(), data if header[1] == b"blob" else None))
            else:
                out.append((None, None))
        writer.join()
        return out

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def audit_reference(root: Path) -> dict[str, Any]:
    """The least an audit must do, done plainly: one ``git log --name-status`` pass to find
    each decision's first commit; one ``git cat-file --batch`` reading every decision (at
    HEAD and as first committed) and then every input it names at its inputs commit; each
    distinct blob parsed once with PyYAML's C loader. No checks, no replay."""
    t0 = time.perf_counter()
    log = subprocess.run(["git", "-C", str(root), "log", "--reverse", "--no-renames",
                          "--name-status", "-z", "--format=%x1e%H%x00%an%x00%ae%x00%aI%x00"
                          "%s%x00%b%x00", "HEAD"], capture_output=True, check=True).stdout
    created: dict[str, str] = {}
    for chunk in log.split(b"\x1e")[1:]:
        parts = chunk.split(b"\x00")
        rest = [p for p in (p.strip(b"\n") for p in parts[6:]) if p]
        for path in rest[1::2]:
            name = path.decode()
            if name.startswith("decisions/") and name not in created:
                created[name] = parts[0].decode()
    t_log = time.perf_counter() - t0
    parsed: dict[str, Any] = {}

    def parse(answers: Sequence[tuple[str | None, bytes | None]]) -> list[Any]:
        docs = []
        for oid, data in answers:
            if oid is not None and oid not in parsed:
                parsed[oid] = yaml.load(data, Loader=yaml.CSafeLoader) if data else None
            docs.append(parsed.get(oid) if oid else None)
        return docs

    cat = CatFile(root)
    try:
        keys = [f"HEAD:{p}" for p in created] + [f"{sha}:{p}" for p, sha in created.items()]
        firsts = parse(cat.read(keys))[len(created):]
        wanted = [f"{d['inputs']['commit']}:{d['inputs'][what]['path']}"
                  for d in firsts if isinstance(d, dict)
                  for what in ("packet", "person", "ladder", "framework")]
        found = parse(cat.read(wanted))
    finally:
        cat.close()
    return {"seconds": time.perf_counter() - t0, "log": t_log, "decisions": len(created),
            "reads": len(keys) + len(wanted), "parsed": len(parsed),
            "missing": sum(1 for d in found if d is None)}


def find_check_jsonschema(install: bool) -> tuple[list[str] | None, str]:
    script = Path(sys.executable).parent / "check-jsonschema"
    if script.is_file():
        return [str(script)], ""
    found = shutil.which("check-jsonschema")
    if found:
        return [found], ""
    if not install:
        return None, "check-jsonschema is not installed: pip install check-jsonschema " \
                     "(or run without --no-install)"
    print("installing check-jsonschema into this environment (pip) ...", flush=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                           "check-jsonschema"], capture_output=True, text=True, check=False)
    if proc.returncode == 0 and script.is_file():
        return [str(script)], "installed by this run"
    why = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
    return None, f"could not install check-jsonschema ({why[:120]})"


def _argv_chunks(paths: Sequence[str], budget: int = 400_000) -> Iterator[list[str]]:
    """Paths in as few command lines as the OS allows (ARG_MAX is 2 MB on Linux)."""
    chunk: list[str] = []
    used = 0
    for p in paths:
        if chunk and used + len(p) + 1 > budget:
            yield chunk
            chunk, used = [], 0
        chunk.append(p)
        used += len(p) + 1
    if chunk:
        yield chunk


# Record folders and the schema their files are checked against.
SCHEMA_OF = (("packets", "packet"), ("people", "person"), ("decisions", "decision"),
             ("reviews", "review"), ("frameworks", "framework"), ("ladders", "ladder"))


def check_jsonschema(cmd: list[str], root: Path, groups: Sequence[tuple[str, Sequence[Path]]]
                     ) -> dict[str, Any]:
    """check-jsonschema on each group of files with its schema; wall time of every run."""
    seconds, runs, files, errors, failed_runs = 0.0, 0, 0, 0, []
    for schema, paths in groups:
        rel = [p.relative_to(root).as_posix() for p in paths]
        for chunk in _argv_chunks(rel):
            done = run([*cmd, "--schemafile", str(SCHEMAS / schema), "--output-format", "json",
                        *chunk], root)
            seconds += done.seconds
            runs += 1
            files += len(chunk)
            try:
                report = json.loads(done.out)
                errors += len(report.get("errors", [])) + len(report.get("parse_errors", []))
            except ValueError:
                failed_runs.append(done.failed() or "unreadable output")
    return {"seconds": seconds, "runs": runs, "files": files, "errors": errors,
            "failed": failed_runs}

