"""The synthetic history, planned commit by commit (packets, decisions, HR changes,
reviews) and written with one ``git fast-import``."""

from __future__ import annotations

import collections
import random
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from .deciding import (
    CORRECTIONS,
    HR_DESK,
    OFFICE,
    Commit,
    Identity,
    Plan,
    RecordOut,
    _Decider,
    _outcome,
    _Panels,
    _reasons,
    _review_chain,
    _sha256,
    _split,
    promoted_person,
    rule_sets,
)
from .packets import PacketOut
from .sizes import (
    EXAMPLES,
    HISTORY_END,
    HISTORY_START,
    PACKET_COMMIT_SHARE,
    PLACEHOLDER_COMMIT,
    REVISION_DAY,
    SUPERSEDE_RATE,
    Size,
)
from .staff import Staff


def plan_history(staff: Staff, people: dict[str, bytes], packets: list[PacketOut],
                 size: Size, seed: int, log: Callable[[str], None] | None = None) -> Plan:
    """Every commit of the synthetic history, in order, with its files.

    Decisions are made on the earliest packets (the latest stay pending), each evaluated
    once with the records as they are at the commit before it; a few are corrected later
    by a superseding decision; HR applies approvals to the person records on the
    effective date; reviews follow the promotions.
    """
    from promoctl.records.parsing import parse_record

    rng = random.Random(seed * 31 + 7)  # its own stream: history choices leave packets be
    rules = rule_sets()
    panels = _Panels(staff)
    decider = _Decider(rules, panels)
    commits = [Commit(HISTORY_START, 0, OFFICE, "Import people, frameworks and ladders\n",
                      [("promoctl.yaml", (EXAMPLES / "promoctl.yaml").read_bytes()),
                       *rules[0].files.items(), *people.items()])]
    commits.append(Commit(REVISION_DAY, 1, OFFICE,
                          "Support work: rebalance source weights\n\nObservation 45 (was 40), "
                          "documentation audit 25 (was 30); framework community-services "
                          "2024.1. Decisions made before this replay with the old weights.\n",
                          [(p, raw) for p, raw in rules[1].files.items()
                           if raw != rules[0].files[p]]))

    # Packets, committed in batches of consecutive submission days.
    packets = sorted(packets, key=lambda p: (p.submitted, p.path))
    days = sorted({p.submitted for p in packets})
    committed_on: dict[date, date] = {}
    chunks = _split(days, round(size.commits * PACKET_COMMIT_SHARE))
    by_day: dict[date, list[PacketOut]] = collections.defaultdict(list)
    for p in packets:
        by_day[p.submitted].append(p)
    for chunk in chunks:
        batch = [p for d in chunk for p in by_day[d]]
        first, last = chunk[0], chunk[-1]
        when = f"on {first}" if first == last else f"from {first} to {last}"
        commits.append(Commit(last, 3, HR_DESK, f"Packets submitted {when} ({len(batch)})\n",
                              [(p.path, p.text.encode()) for p in batch]))
        committed_on.update(dict.fromkeys(chunk, last))

    # Decisions, in submission order, until the target is reached.
    plan = Plan(commits)
    records: list[RecordOut] = []
    approvals: list[tuple[Any, str]] = []  # (decision, group)
    for n, out in enumerate(packets):
        if log and n and n % 1000 == 0:
            log(f"  planned decisions on {n:,} of {len(packets):,} packets")
        made = plan.decisions + plan.superseding
        day = max(out.submitted + timedelta(days=rng.randint(10, 40)),
                  committed_on[out.submitted] + timedelta(days=1))
        if made >= size.decisions or day > HISTORY_END:
            plan.pending += 1
            continue
        raw = out.text.encode()
        source, problems = parse_record(raw, out.path)
        person_path = f"people/{out.group}/{out.candidate}.yaml"
        person_source, person_problems = parse_record(people[person_path], person_path)
        if source is None or person_source is None or problems or person_problems:
            raise ValueError(f"{out.path}: generated an invalid record: "
                             f"{[*problems, *person_problems][:3]}")
        ev = decider.evaluate(source.record, person_source.record, day)
        outcome, override = _outcome(rng, ev.ready)
        record, decision = decider.decision(rng, ev, out, people[person_path], day, outcome,
                                            _reasons(rng, ev, outcome), override)
        records.append(record)
        plan.decisions += 1
        plan.outcomes[outcome] += 1
        plan.overrides += override is not None
        if outcome == "approved":
            approvals.append((decision, out.group))
            continue
        later = day + timedelta(days=rng.randint(2, 21))
        if (rng.random() < SUPERSEDE_RATE and made + 1 < size.decisions
                and later <= HISTORY_END and (later >= REVISION_DAY) == (day >= REVISION_DAY)):
            # A correction: the same packet, the other non-approving outcome.
            fixed = "declined" if outcome == "deferred" else "deferred"
            reasons = [rng.choice(CORRECTIONS).format(outcome=fixed),
                       *_reasons(rng, ev, fixed)]
            record, _ = decider.decision(rng, ev, out, people[person_path], later, fixed,
                                         reasons, override, supersedes=decision.id)
            records.append(record)
            plan.superseding += 1
            plan.outcomes[fixed] += 1
            plan.overrides += override is not None

    # HR applies each approval on its effective date (the first of the next month).
    promoted: dict[date, list[tuple[str, bytes]]] = collections.defaultdict(list)
    for decision, group in approvals:
        if decision.effective <= HISTORY_END:
            path = f"people/{group}/{decision.candidate}.yaml"
            text = promoted_person(people[path].decode(), decision.target.level,
                                   decision.effective)
            promoted[decision.effective].append((path, text.encode()))
            plan.promoted += 1
    for day in sorted(promoted):
        changes = promoted[day]
        commits.append(Commit(day, 2, HR_DESK, f"HR: level changes effective {day} "
                              f"({len(changes)} {'person' if len(changes) == 1 else 'people'})"
                              "\n", changes))

    # Reviews after promotion: whole chains of randomly chosen promoted people.
    ladder_of = {lid: ladder for lid, (_p, ladder) in rules[1].ladders.items()}
    chosen = [(d, g) for d, g in approvals if d.effective <= HISTORY_END]
    rng.shuffle(chosen)
    for decision, group in chosen:
        if plan.reviews >= size.reviews:
            break
        chain = _review_chain(rng, panels, decision, group, ladder_of[decision.target.ladder])
        chain = chain[:size.reviews - plan.reviews]
        records.extend(chain)
        plan.reviews += len(chain)
        plan.review_kinds.update(" ".join(r.message.split()[1:3]) for r in chain)

    # Records, in batches that never cross the first of a month (HR's day) or the rule
    # revision, so every record's inputs are exactly as planned at the commit before it.
    records.sort(key=lambda r: (r.day, r.order, r.path))
    segments: dict[tuple[int, int, bool], list[RecordOut]] = collections.defaultdict(list)
    for r in records:
        segments[r.day.year, r.day.month, r.day >= REVISION_DAY].append(r)
    budget = max(1, size.commits - len(commits))
    shares = {key: max(1, len(seg) * budget // max(len(records), 1))
              for key, seg in segments.items()}
    spare = budget - sum(shares.values())
    for key in sorted(segments, key=lambda k: -len(segments[k]))[:max(spare, 0)]:
        shares[key] += 1
    for key, seg in segments.items():
        for batch in _split(seg, shares[key]):
            commits.append(Commit(batch[-1].day, 4, batch[0].author, "", records=list(batch)))
    commits.sort(key=lambda c: (c.day, c.rank))  # stable: batches keep their order
    return plan


def batch_message(records: Sequence[RecordOut]) -> str:
    """One record: decide's (or review's) own message. Several: a summary line, one line
    per record, and every record's Promoctl-* trailers."""
    if len(records) == 1:
        return records[0].message
    kinds = collections.Counter("decision" if r.order == 0 else "review" for r in records)
    what = " and ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(kinds.items()))
    lines = [f"Record {what}", ""]
    trailers = []
    for r in records:
        head = r.message.split("\n", 1)[0]
        lines.append(f"- {head} ({r.path})")
        trailers += [line for line in r.message.splitlines() if line.startswith("Promoctl-")]
    return "\n".join([*lines, "", *trailers]) + "\n"


# ---------------------------------------------------------------------------- fast-import

class FastImport:
    """One ``git fast-import`` process writing the whole history, asked for commit ids
    with ``get-mark`` as it goes (a decision records the commit its inputs were read at)."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            ["git", "-C", str(root), "fast-import", "--quiet", "--done", "--date-format=raw"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.marks = 0

    @staticmethod
    def _data(raw: bytes) -> bytes:
        return b"data %d\n%s\n" % (len(raw), raw)

    def commit(self, author: Identity, when: datetime, message: str,
               files: Iterable[tuple[str, bytes]]) -> int:
        assert self.proc.stdin is not None
        self.marks += 1
        ident = f"{author[0]} <{author[1]}> {int(when.timestamp())} +0000"
        parts = [f"commit refs/heads/main\nmark :{self.marks}\nauthor {ident}\n"
                 f"committer {ident}\n".encode(), self._data(message.encode())]
        for path, raw in files:
            parts.append(f"M 100644 inline {path}\n".encode())
            parts.append(self._data(raw))
        parts.append(b"\n")
        self.proc.stdin.write(b"".join(parts))
        return self.marks

    def sha(self, mark: int) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"get-mark :{mark}\n".encode())
        self.proc.stdin.flush()
        sha = self.proc.stdout.readline().decode().strip()
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise RuntimeError(f"git fast-import answered {sha!r} for get-mark :{mark}")
        return sha

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"done\n")
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed with exit code {self.proc.returncode}")


def _with_commit(text: str, sha: str) -> str:
    """A planned decision record with the real inputs commit in place of the placeholder."""
    if re.search("[a-f]", sha):  # written plain by the YAML dumper, like the placeholder
        assert text.count(PLACEHOLDER_COMMIT) == 1
        return text.replace(PLACEHOLDER_COMMIT, sha)
    # All digits (one commit in ~10^8): let promoctl's own writer decide how to quote it.
    from promoctl.decisions import panel
    from promoctl.records.parsing import parse_record

    source, _ = parse_record(text.encode(), "decision.yaml")
    assert source is not None
    old = source.record
    new = old.model_copy(update={"inputs": old.inputs.model_copy(update={"commit": sha})})
    return panel.to_yaml(new)


def write_history(root: Path, plan: Plan) -> str:
    """Feed the plan to git fast-import; returns the last commit's id."""
    state: dict[str, str] = {}  # path -> sha256 of its content at HEAD
    seconds_into: collections.Counter[date] = collections.Counter()
    importer = FastImport(root)
    head = ""
    try:
        for commit in plan.commits:
            files = list(commit.files)
            message = commit.message
            if commit.records:
                for record in commit.records:
                    for path, sha in record.inputs.items():
                        if state.get(path) != sha:
                            raise RuntimeError(f"{record.path}: {path} at the commit before "
                                               "is not what the decision was planned on")
                for record in commit.records:
                    body = _with_commit(record.text, head) if record.order == 0 else record.text
                    files.append((record.path, body.encode()))
                message = batch_message(commit.records).replace(PLACEHOLDER_COMMIT, head)
            # A fixed time of day, a minute apart for commits on the same day.
            when = datetime(commit.day.year, commit.day.month, commit.day.day, 9, tzinfo=UTC) \
                + timedelta(seconds=60 * seconds_into[commit.day])
            seconds_into[commit.day] += 1
            mark = importer.commit(commit.author, when, message, files)
            state.update((path, _sha256(raw)) for path, raw in files)
            head = importer.sha(mark)
    finally:
        importer.close()
    return head
