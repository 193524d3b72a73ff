"""The git trailers of a decision commit: written from the record, checked against it.

``git log`` alone should tell the story, and a commit whose trailers disagree with the
record it adds (an amended outcome, say) is a sign the history was rewritten.
"""

from __future__ import annotations

from promoctl.records.models import Decision

PREFIX = "Promoctl-"


def for_decision(decision: Decision) -> dict[str, str]:
    """Trailer name -> value, in the order they are written."""
    out = {
        "Promoctl-Decision": decision.id,
        "Promoctl-Candidate": decision.candidate,
        "Promoctl-Outcome": decision.outcome,
        "Promoctl-Packet": decision.inputs.packet.id,
        "Promoctl-Packet-Sha256": decision.inputs.packet.sha256,
        "Promoctl-Inputs-Commit": decision.inputs.commit,
    }
    if decision.against_evaluation:
        out["Promoctl-Override"] = "yes"
    if decision.supersedes:
        out["Promoctl-Supersedes"] = decision.supersedes
    return out


def blocks(body: str) -> list[dict[str, list[str]]]:
    """The ``Promoctl-*`` trailers of a commit, one block per record it adds: a block
    starts at ``Promoctl-Review``, or at ``Promoctl-Decision`` followed by
    ``Promoctl-Candidate`` (a review names the decision it follows, too)."""
    lines = []
    for line in body.splitlines():
        name, sep, value = line.partition(": ")
        if sep and name.startswith(PREFIX) and " " not in name:
            lines.append((name, value.strip()))
    out: list[dict[str, list[str]]] = []
    for n, (name, value) in enumerate(lines):
        starts = name == "Promoctl-Review" or (
            name == "Promoctl-Decision" and n + 1 < len(lines)
            and lines[n + 1][0] == "Promoctl-Candidate")
        if starts or not out:
            out.append({})
        out[-1].setdefault(name, []).append(value)
    return out


def disagreements(body: str, decision: Decision) -> list[str] | None:
    """How the commit's trailers for this decision disagree with the record; None when
    the commit has no decision trailers at all (committed by hand after ``--no-commit``).
    A commit adding several records carries one block of trailers for each."""
    mine = [b for b in blocks(body) if "Promoctl-Candidate" in b]
    if not mine:
        return None
    found = next((b for b in mine if b.get("Promoctl-Decision") == [decision.id]), None)
    if found is None:
        named = ", ".join(v for b in mine for v in b.get("Promoctl-Decision", []))
        return [f"Promoctl-Decision: commit says {named}, record says {decision.id}"]
    want = for_decision(decision)
    out = []
    for name in [*want, *[k for k in found if k not in want]]:
        values = found.get(name, [])
        expected = want.get(name)
        if values == ([expected] if expected is not None else []):
            continue
        shown = ", ".join(values) if values else "absent"
        out.append(f"{name}: commit says {shown}, record says {expected or 'absent'}")
    return out
