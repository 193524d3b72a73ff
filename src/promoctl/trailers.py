"""The git trailers of a decision commit: written from the record, checked against it.

``git log`` alone should tell the story, and a commit whose trailers disagree with the
record it adds (an amended outcome, say) is a sign the history was rewritten.
"""

from __future__ import annotations

from promoctl.models import Decision

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


def parse(body: str) -> dict[str, list[str]]:
    """Every ``Promoctl-*`` trailer in a commit message, with all its values."""
    found: dict[str, list[str]] = {}
    for line in body.splitlines():
        name, sep, value = line.partition(": ")
        if sep and name.startswith(PREFIX) and " " not in name:
            found.setdefault(name, []).append(value.strip())
    return found


def disagreements(body: str, decision: Decision) -> list[str] | None:
    """How the commit's decision trailers disagree with the record; None when the commit
    has no decision trailers at all (committed by hand after ``--no-commit``)."""
    found = {k: v for k, v in parse(body).items()
             if not k.startswith(("Promoctl-Review", "Promoctl-Person"))}
    if not found:
        return None
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
