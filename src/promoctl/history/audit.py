"""Auditing decisions from git alone: unchanged records, trailers that agree, matching
inputs, an exact replay of every derived value, separation of duties, signatures, seals.

One ``git log`` pass finds when each record was created and changed; one ``cat-file
--batch`` reads every historical version needed, a chunk of decisions at a time;
evaluation is replayed with the packet, person, ladder and framework exactly as they
were committed when the decision was made.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from promoctl.base.repofiles import MARKER
from promoctl.decisions import signing, trailers
from promoctl.decisions.panel import DECISIONS_DIR, check_quorum
from promoctl.history import fielddiff, gitlog, replay, seals
from promoctl.records import duties
from promoctl.records.models import Decision, Ladder
from promoctl.records.parsing import parse_record
from promoctl.records.settings import Policy, RepositoryConfig

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
    seals: int = 0  # seals checked (see seals.py)
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.severity == FAIL for f in self.findings)


# A top-level "id:" or "name:" of a person file, quoted or not.
_FIELD = re.compile(r"^(id|name): *['\"]?(.*?)['\"]? *$", re.MULTILINE)
CHUNK = 256  # decisions whose blobs are read in one batch and then forgotten
PARSED_KEPT = 512  # parsed records kept (ladders and frameworks recur; packets rarely)


@dataclass
class _Context:
    top: Path
    prefix: str  # the promotion repository's folder inside the git work tree ("" or "x/")
    commits: list[gitlog.Commit]
    blobs: gitlog.BlobReader
    # path -> [(index into commits, status)]
    touched: dict[str, list[tuple[int, str]]]
    # content sha256 -> record or None, least recently used first
    parsed: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    index: dict[str, int] = field(default_factory=dict)  # commit sha -> position
    moved_from: dict[str, str] = field(default_factory=dict)  # new path -> old path
    # Light facts of every decision audited, for the checks across decisions.
    facts: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    names: dict[str, str] | None = None  # person id -> name, read when first needed
    # (commit, decision id, path, allowed-signers path) of decisions that must be signed
    to_verify: list[tuple[str, str, str, str]] = field(default_factory=list)

    def git_path(self, path: str) -> str:
        return self.prefix + path

    def record(self, rev: str, path: str) -> Any:
        """The record at ``rev``; parsed once per distinct content while it is in use (a
        ladder unchanged across a thousand decisions is parsed once)."""
        raw = self.blobs.read(rev, self.git_path(path))
        if raw is None:
            return None
        key = hashlib.sha256(raw).hexdigest()
        if key in self.parsed:
            self.parsed.move_to_end(key)
        else:
            source = parse_record(raw, path)[0]
            self.parsed[key] = source.record if source else None
            if len(self.parsed) > PARSED_KEPT:
                self.parsed.popitem(last=False)
        return self.parsed[key]

    def name_of(self, person_id: str) -> str | None:
        """A person's name as the head commit has it (read once, for all people: names
        are only a second way to match a panel member, after the id)."""
        if self.names is None:
            self.names = {}
            paths = gitlog.files_at(self.top, "HEAD", r"^kind: *['\"]?person")
            texts = self.blobs.read_many([("HEAD", p) for p in paths])
            for raw in texts.values():
                found = dict(_FIELD.findall((raw or b"").decode(errors="replace")))
                if "id" in found and "name" in found:
                    self.names[found["id"]] = found["name"]
            self.blobs.forget()
        return self.names.get(person_id)

    def lineage(self, path: str) -> list[str]:
        """The paths a moved record had, oldest first, ending with ``path``."""
        chain = [path]
        while chain[0] in self.moved_from and len(chain) <= len(self.moved_from):
            chain.insert(0, self.moved_from[chain[0]])
        return chain


def audit(root: Path, since: date | None = None,
          progress: Callable[[int, int], None] | None = None) -> AuditResult:
    """Audit every decision, streaming: blobs are read a chunk of decisions at a time and
    forgotten after, so memory does not grow with the number of decisions."""
    top = gitlog.toplevel(root)
    prefix = gitlog.prefix(root, top)
    commits = gitlog.log(top)
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
    with gitlog.BlobReader(top) as blobs:
        ctx = _Context(top, prefix, commits, blobs, touched,
                       index={c.sha: i for i, c in enumerate(commits)})
        ctx.moved_from = _moves(ctx, decision_paths)
        gone = set(ctx.moved_from.values())
        current = [p for p in decision_paths if p not in gone]
        for start in range(0, len(current), CHUNK):
            chunk = current[start:start + CHUNK]
            # Batch the reads: every decision's current and first version, then every
            # input they name, so the per-decision checks below only hit the cache.
            origins = {p: ctx.lineage(p)[0] for p in chunk}
            blobs.read_many([("HEAD", ctx.git_path(p)) for p in chunk]
                            + [(commits[touched[o][0][0]].sha, ctx.git_path(o))
                               for o in origins.values()])
            firsts = [ctx.record(commits[touched[o][0][0]].sha, o) for o in origins.values()]
            blobs.read_many([(d.inputs.commit, ctx.git_path(ref.path))
                             for d in firsts if isinstance(d, Decision)
                             for ref in (d.inputs.packet, d.inputs.person, d.inputs.ladder,
                                         d.inputs.framework)])
            for n, path in enumerate(chunk, start + 1):
                _audit_one(ctx, root, path, since, result)
                if progress:
                    progress(n, len(current))
            blobs.forget()
    _across(ctx, result)
    _signatures(ctx, result, duties.policy_from(blobs_head(top, MARKER, prefix)))
    found = seals.load(top)
    broken = seals.verify(root, DECISIONS_DIR, found)
    result.seals = len(found)
    for n, seal in enumerate(broken):
        first = "the first seal this history breaks: " if n == 0 else ""
        result.findings.append(Finding("-", seal.seal, "seal", FAIL, first + seal.message))
    for path in untracked:
        result.findings.append(Finding("?", path, "not-committed", FAIL,
                                       "decision record is not committed to git"))
    return result


def blobs_head(top: Path, path: str, prefix: str) -> bytes | None:
    with gitlog.BlobReader(top) as blobs:
        return blobs.read("HEAD", prefix + path)


def _signatures(ctx: _Context, result: AuditResult, head_policy: Policy) -> None:
    """Verify the decision commits the policy required to be signed, against the
    allowed-signers file at the head commit; list every change to that file."""
    files = {allowed for *_rest, allowed in ctx.to_verify}
    if head_policy.signing.required:
        files.add(head_policy.signing.allowed_signers)
    with gitlog.BlobReader(ctx.top) as blobs:
        for allowed in sorted(files):
            wanted = [v for v in ctx.to_verify if v[3] == allowed]
            raw = blobs.read("HEAD", ctx.git_path(allowed))
            status = signing.verify(ctx.top, [sha for sha, *_ in wanted], raw)
            for sha, decision_id, path, _allowed in wanted:
                letter, signer = status.get(sha, ("N", ""))
                if letter != "G":
                    commit = ctx.commits[ctx.index[sha]]
                    by = f", signer {signer}" if signer else ""
                    result.findings.append(Finding(
                        decision_id, path, "signature", FAIL, f"the policy requires a "
                        f"signed decision commit, and it has {signing.STATUS.get(letter, letter)}"
                        f"{by} (checked against {allowed} at the head commit)", sha,
                        f"{commit.author} <{commit.email}>", commit.date))
            previous: set[str] = set()
            for index, change in ctx.touched.get(allowed, []):
                commit = ctx.commits[index]
                now = blobs.read(commit.sha, ctx.git_path(allowed)) if change != "D" else b""
                lines = {line.strip() for line in (now or b"").decode(errors="replace")
                         .splitlines() if line.strip() and not line.startswith("#")}
                added = sorted(line.split()[0] for line in lines - previous)
                removed = sorted(line.split()[0] for line in previous - lines)
                previous = lines
                result.findings.append(Finding(
                    "-", allowed, "allowed-signers", NOTE, "allowed signers changed: "
                    + "; ".join(x for x in (f"added {', '.join(added)}" if added else "",
                                            f"removed {', '.join(removed)}" if removed else "")
                                if x) if added or removed else "allowed signers file "
                    "changed (comments or formatting)", commit.sha,
                    f"{commit.author} <{commit.email}>", commit.date))


def _moves(ctx: _Context, paths: list[str]) -> dict[str, str]:
    """Records moved by a commit that deletes one path and adds another with the same
    file name, the same content or the same decision id: new path -> old path."""
    wanted = set(paths)
    by_commit: dict[int, tuple[list[str], list[str]]] = {}
    for path in paths:
        for index, status in ctx.touched[path]:
            if status in ("A", "D"):
                by_commit.setdefault(index, ([], []))[status == "A"].append(path)
    moved: dict[str, str] = {}
    for index, (deleted, added) in sorted(by_commit.items()):
        if not deleted or not added:
            continue
        sha = ctx.commits[index].sha
        for old in deleted:
            before = _before(ctx, old, index)
            for new in added:
                if new in moved or new not in wanted:
                    continue
                if Path(old).name == Path(new).name or _same_record(
                        before, ctx.blobs.read(sha, ctx.git_path(new)), new):
                    moved[new] = old
                    break
    return moved


def _same_record(before: bytes | None, after: bytes | None, path: str) -> bool:
    """The same bytes, or records with the same decision id (moved and edited)."""
    if before is None or after is None:
        return False
    if before == after:
        return True
    old, new = (parse_record(raw, path)[0] for raw in (before, after))
    return (old is not None and new is not None and isinstance(old.record, Decision)
            and isinstance(new.record, Decision) and old.record.id == new.record.id)


def _before(ctx: _Context, path: str, index: int) -> bytes | None:
    """``path``'s content just before the commit at ``index``."""
    earlier = [i for i, status in ctx.touched[path] if i < index and status != "D"]
    return ctx.blobs.read(ctx.commits[earlier[-1]].sha, ctx.git_path(path)) if earlier \
        else None


def _across(ctx: _Context, result: AuditResult) -> None:
    """Checks across decisions: a superseded decision's later packet changes are only
    noted; two standing decisions on one packet (after a merge, say) fail."""
    superseded = {sup for _id, _path, sup, _packet in ctx.facts if sup}
    result.findings = [
        replace(f, severity=NOTE) if f.check == "packet-changed" and f.decision in superseded
        else f for f in result.findings]
    standing: dict[str, list[tuple[str, str]]] = {}
    for decision_id, path, _sup, packet in ctx.facts:
        if decision_id not in superseded:
            standing.setdefault(packet, []).append((decision_id, path))
    for packet, items in sorted(standing.items()):
        if len(items) > 1:
            ids = ", ".join(i for i, _ in items)
            for decision_id, path in items:
                result.findings.append(Finding(
                    decision_id, path, "two-standing", FAIL, f"packet {packet!r} has "
                    f"{len(items)} standing decisions ({ids}); a later one must supersede "
                    "the other"))


def _audit_one(ctx: _Context, root: Path, path: str, since: date | None,
               result: AuditResult) -> None:
    lineage = ctx.lineage(path)
    events = [(i, status, p) for n, p in enumerate(lineage) for i, status in ctx.touched[p]
              if not (n < len(lineage) - 1 and status == "D" and i == ctx.touched[p][-1][0])]
    created_at, status, origin = events[0]
    creation = ctx.commits[created_at]
    first = ctx.record(creation.sha, origin)
    if not isinstance(first, Decision):
        return  # not a decision record (validate reports what is wrong with it)
    d = first
    ctx.facts.append((d.id, path, d.supersedes, d.inputs.packet.id))
    if since is not None and d.decided_on < since:
        return
    result.decisions += 1

    def add(check: str, severity: str, message: str, commit: gitlog.Commit | None = None,
            fields: tuple[str, ...] = ()) -> None:
        result.findings.append(Finding(
            d.id, path, check, severity, message, commit.sha if commit else None,
            f"{commit.author} <{commit.email}>" if commit else None,
            commit.date if commit else None, fields))

    # 1. The record is as it was created (a supersession is a new file, not an edit; a
    # move is listed, and checked like an edit).
    first_raw = ctx.blobs.read(creation.sha, ctx.git_path(origin))
    for index, change, where in events[1:]:
        commit = ctx.commits[index]
        if change == "D":
            add("record-deleted", FAIL, "decision record deleted after it was recorded",
                commit)
            continue
        moved = change == "A" and where in ctx.moved_from \
            and index == ctx.touched[where][0][0]
        if moved:
            add("record-moved", NOTE, f"decision record moved from {ctx.moved_from[where]} "
                f"to {where}", commit)
        now = ctx.blobs.read(commit.sha, ctx.git_path(where))
        if moved and now == first_raw:
            continue
        changed = tuple(str(c) for c in fielddiff.diff(fielddiff.parse_loose(first_raw),
                                                       fielddiff.parse_loose(now)))
        add("record-edited", FAIL, "decision record edited after it was recorded: "
            + ("; ".join(changed) if changed else "formatting only"), commit, changed)
    on_disk = root / path
    if on_disk.is_file() and on_disk.read_bytes() != ctx.blobs.read("HEAD", ctx.git_path(path)):
        add("record-edited", FAIL, "decision record has uncommitted edits")

    # The commit that added the record says what it adds in its trailers.
    disagree = trailers.disagreements(creation.body, d)
    if disagree is None:
        add("trailers", NOTE, "committed without promoctl's trailers (recorded with "
            "--no-commit and committed by hand)", creation)
    for message in disagree or []:
        add("trailers", FAIL, f"the commit's trailers disagree with the record: {message}",
            creation, (message.split(":", 1)[0],))

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
    _later_packet_changes(ctx, d, add)

    # Signed, when the policy of the day required it (verified after the loop, at once).
    rules = _policy(ctx, d.inputs.commit)
    if rules.signing.required:
        ctx.to_verify.append((creation.sha, d.id, path, rules.signing.allowed_signers))

    # 3. Replay with the records as they were committed at decision time.
    if intact:
        _replay(ctx, d, add, creation, rules)
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


def _later_packet_changes(ctx: _Context, d: Decision, add: Callable[..., None]) -> None:
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
        add("packet-changed", FAIL,  # a note if superseded (see _across)
            f"packet {path} changed after the decision"
            + (": " + "; ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
               if changed else ""), commit, changed)
        previous = now


def _policy(ctx: _Context, rev: str) -> Policy:
    """The policy in promoctl.yaml at ``rev``, parsed once per content (the defaults when
    it says none)."""
    config = ctx.record(rev, MARKER)
    return config.policy if isinstance(config, RepositoryConfig) else Policy()


def _replay(ctx: _Context, d: Decision, add: Callable[..., None],
            creation: gitlog.Commit, rules: Policy) -> None:
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
    # Separation of duties, under the policy of the day and the records it was made on.
    for breach in duties.breaches(rules.separation_of_duties, d.panel,
                                  duties.Parties.of(inputs.person, inputs.packet),
                                  ctx.name_of):
        add("separation-of-duties", FAIL, breach, creation)
