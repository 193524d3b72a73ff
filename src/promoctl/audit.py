"""Auditing decisions from git alone: unchanged records, matching inputs, exact replay.

One ``git log`` pass finds when each record was created and changed; one ``cat-file
--batch`` reads every historical version needed; evaluation is replayed with the packet,
person, ladder and framework exactly as they were committed when the decision was made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from promoctl import fielddiff, history, replay
from promoctl.decisions import DECISIONS_DIR, check_quorum
from promoctl.models import Decision, Ladder
from promoctl.records import parse_record

FAIL = "fail"
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    decision: str
    path: str
    check: str
    severity: str  # fail: an integrity check failed; note: listed for the auditor
    message: str
    commit: str | None = None
    author: str | None = None
    date: str | None = None
    fields: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "path": self.path, "check": self.check,
                "severity": self.severity, "message": self.message, "commit": self.commit,
                "author": self.author, "date": self.date, "fields": list(self.fields)}


@dataclass
class AuditResult:
    decisions: int = 0
    replayed: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.severity == FAIL for f in self.findings)


@dataclass
class _Context:
    top: Path
    prefix: str  # the promotion repository's folder inside the git work tree ("" or "x/")
    commits: list[history.Commit]
    blobs: history.BlobReader
    # path -> [(index into commits, status)]
    touched: dict[str, list[tuple[int, str]]]
    parsed: dict[str, Any] = field(default_factory=dict)  # "rev:path" -> record or None
    index: dict[str, int] = field(default_factory=dict)  # commit sha -> position
    superseded_paths: set[str] = field(default_factory=set)

    def git_path(self, path: str) -> str:
        return self.prefix + path

    def record(self, rev: str, path: str) -> Any:
        """The record at ``rev``; parsed once per distinct content, not per commit (a
        ladder unchanged across a thousand decisions is parsed once)."""
        raw = self.blobs.read(rev, self.git_path(path))
        if raw is None:
            return None
        key = hashlib.sha256(raw).hexdigest()
        if key not in self.parsed:
            source = parse_record(raw, path)[0]
            self.parsed[key] = source.record if source else None
        return self.parsed[key]


def audit(root: Path, since: date | None = None,
          progress: Callable[[int, int], None] | None = None) -> AuditResult:
    top = history.toplevel(root)
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    commits = history.log(top)
    touched: dict[str, list[tuple[int, str]]] = {}
    for i, commit in enumerate(commits):
        for change in commit.changes:
            if change.path.startswith(prefix):
                touched.setdefault(change.path[len(prefix):], []).append((i, change.status))
    result = AuditResult()
    decision_paths = sorted(p for p in touched if p.startswith(DECISIONS_DIR + "/")
                            and p.endswith((".yaml", ".yml")))
    untracked = sorted(
        p.relative_to(root).as_posix() for p in (root / DECISIONS_DIR).rglob("*.y*ml")
        if p.relative_to(root).as_posix() not in touched) if (root / DECISIONS_DIR).is_dir() \
        else []
    with history.BlobReader(top) as blobs:
        ctx = _Context(top, prefix, commits, blobs, touched,
                       index={c.sha: i for i, c in enumerate(commits)})
        # Batch the reads: every decision's current and first version, then every input
        # they name, so the per-decision checks below only hit the cache.
        blobs.read_many([("HEAD", ctx.git_path(p)) for p in decision_paths]
                        + [(commits[touched[p][0][0]].sha, ctx.git_path(p))
                           for p in decision_paths])
        firsts = [ctx.record(commits[touched[p][0][0]].sha, p) for p in decision_paths]
        blobs.read_many([(d.inputs.commit, ctx.git_path(ref.path))
                         for d in firsts if isinstance(d, Decision)
                         for ref in (d.inputs.packet, d.inputs.person, d.inputs.ladder,
                                     d.inputs.framework)])
        by_id = {d.id: p for p, d in zip(decision_paths, firsts, strict=True)
                 if isinstance(d, Decision)}
        ctx.superseded_paths = {by_id[d.supersedes] for d in firsts
                                if isinstance(d, Decision) and d.supersedes in by_id}
        for n, path in enumerate(decision_paths, 1):
            _audit_one(ctx, root, path, since, result)
            if progress:
                progress(n, len(decision_paths))
    for path in untracked:
        result.findings.append(Finding("?", path, "not-committed", FAIL,
                                       "decision record is not committed to git"))
    return result


def _audit_one(ctx: _Context, root: Path, path: str, since: date | None,
               result: AuditResult) -> None:
    events = ctx.touched[path]
    created_at, status = events[0]
    creation = ctx.commits[created_at]
    first = ctx.record(creation.sha, path)
    if not isinstance(first, Decision):
        return  # not a decision record (validate reports what is wrong with it)
    d = first
    if since is not None and d.decided_on < since:
        return
    result.decisions += 1

    def add(check: str, severity: str, message: str, commit: history.Commit | None = None,
            fields: tuple[str, ...] = ()) -> None:
        result.findings.append(Finding(
            d.id, path, check, severity, message, commit.sha if commit else None,
            f"{commit.author} <{commit.email}>" if commit else None,
            commit.date if commit else None, fields))

    # 1. The record is as it was created (a supersession is a new file, not an edit).
    first_raw = ctx.blobs.read(creation.sha, ctx.git_path(path))
    for index, change in events[1:]:
        commit = ctx.commits[index]
        if change == "D":
            add("record-deleted", FAIL, "decision record deleted after it was recorded",
                commit)
            continue
        now = ctx.blobs.read(commit.sha, ctx.git_path(path))
        changed = tuple(str(c) for c in fielddiff.diff(fielddiff.parse_loose(first_raw),
                                                       fielddiff.parse_loose(now)))
        add("record-edited", FAIL, "decision record edited after it was recorded: "
            + ("; ".join(changed) if changed else "formatting only"), commit, changed)
    on_disk = root / path
    if on_disk.is_file() and on_disk.read_bytes() != ctx.blobs.read("HEAD", ctx.git_path(path)):
        add("record-edited", FAIL, "decision record has uncommitted edits")

    # 2. The inputs exist at the recorded commit and match the recorded hashes.
    rev = d.inputs.commit
    refs = {"packet": d.inputs.packet, "person": d.inputs.person,
            "ladder": d.inputs.ladder, "framework": d.inputs.framework}
    intact = True
    for what, ref in refs.items():
        raw = ctx.blobs.read(rev, ctx.git_path(ref.path))
        if raw is None:
            add("inputs-not-committed", FAIL, f"the {what} {ref.path} is not in commit "
                f"{rev[:12]}, so what the decision was made on cannot be retrieved")
            intact = False
        elif hashlib.sha256(raw).hexdigest() != ref.sha256:
            add(f"{what}-hash", FAIL, f"the {what} {ref.path} at commit {rev[:12]} does not "
                f"match the sha256 recorded in the decision")
            intact = False
    _later_packet_changes(ctx, d, add, superseded=path in ctx.superseded_paths)

    # 3. Replay with the records as they were committed at decision time.
    if intact:
        _replay(ctx, d, add, creation)
        result.replayed += 1

    # 4. Listed for the auditor: the override flag is derived (replay compares it with
    # the record), so deleting an override block does not hide an override.
    verdict = d.evaluation.get("verdict")
    if d.against_evaluation:
        why = d.override.justification if d.override else "no justification recorded"
        add("override", NOTE, f"override: {d.outcome} although evaluated {verdict}: {why}",
            creation)
    ladder = ctx.record(rev, d.inputs.ladder.path)
    if isinstance(ladder, Ladder):
        missing = check_quorum(ladder, [(m.role, m.name) for m in d.panel])
        for message in missing:
            add("quorum", FAIL, message, creation)
    if status != "A":
        add("record-created", NOTE, f"first seen with git status {status}", creation)


def _later_packet_changes(ctx: _Context, d: Decision, add: Callable[..., None],
                          superseded: bool) -> None:
    """Evidence changed after the decision was made on it: a failure, unless a later
    decision (which read the new packet) supersedes this one."""
    path = d.inputs.packet.path
    index = ctx.index.get(d.inputs.commit)
    if index is None:
        return
    previous = ctx.blobs.read(d.inputs.commit, ctx.git_path(path))
    for i, status in ctx.touched.get(path, []):
        if i <= index:
            continue
        commit = ctx.commits[i]
        now = None if status == "D" else ctx.blobs.read(commit.sha, ctx.git_path(path))
        changed = tuple(str(c) for c in fielddiff.diff(fielddiff.parse_loose(previous),
                                                       fielddiff.parse_loose(now)))
        add("packet-changed", NOTE if superseded else FAIL,
            f"packet {path} changed after the decision"
            + (": " + "; ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
               if changed else ""), commit, changed)
        previous = now


def _replay(ctx: _Context, d: Decision, add: Callable[..., None],
            creation: history.Commit) -> None:
    inputs = replay.load_inputs(d, lambda rev, path: ctx.blobs.read(rev, ctx.git_path(path)),
                                lambda _raw, path: ctx.record(d.inputs.commit, path))
    if isinstance(inputs, str):
        add("replay", FAIL, inputs)
        return
    result = replay.replay(d, inputs)
    if result.error is not None:
        add("replay", FAIL, result.error)
    for diff in result.differences:
        add("replay", FAIL, f"replaying the decision gives a different value than recorded: "
            f"{diff}", creation, (diff.field,))
