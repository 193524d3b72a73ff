"""Whether a review has something to review on its date, and whether its timing is usual.

A review follows from the lifecycle ``status`` finds on the review's date: a probation
review needs an open probation, a maintenance review a level with re-validation, a
re-check an open drift or development plan. Refusals are errors; unusual timing (a
probation confirmed weeks before its date) is a warning the reviewer sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from promoctl.engine.lifecycle import Status
from promoctl.records.models import Level

# A probation review this many days or more before its date is unusual.
EARLY_PROBATION_DAYS = 14


@dataclass(frozen=True)
class Verdict:
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    decision: str | None  # the decision the review follows up, when one is found


def check(st: Status, level: Level | None, kind: str, on: date,
          decision: str | None = None, outcome: str | None = None) -> Verdict:
    """``st``: the person's status on ``on`` (without the review being corrected)."""
    who = f"{st.person.id} ({st.spell.level} on {on})"
    if st.authorization in ("left", "not-started"):
        return Verdict((f"{who}: nothing to review, {st.reason}",), (), decision)
    if kind == "probation":
        return _probation(st, who, on, decision)
    if kind == "maintenance":
        if outcome == "drift" and st.lapsed_on is not None:
            # A drift's supports and re-check assume an authorisation still held.
            return Verdict((f"{who}: the authorisation lapsed on {st.lapsed_on}; a "
                            "maintenance review that finds it sustained reinstates it, "
                            "a drift cannot follow a lapse",), (), decision)
        return _maintenance(st, level, who, on, decision)
    return _recheck(st, who, decision)


def _probation(st: Status, who: str, on: date, decision: str | None) -> Verdict:
    if st.probation is None:
        return Verdict((f"{who}: no probation to review; probation follows an approval "
                        "into a level with probation rules",), (), decision)
    if st.probation["confirmed"] is not None:
        return Verdict((f"{who}: the probation after decision {st.probation['decision']} "
                        f"was already confirmed on {st.probation['confirmed']}; to correct "
                        "that review, record one with --supersedes",), (), decision)
    if decision is not None and decision != st.probation["decision"]:
        return Verdict((f"--decision {decision}: the open probation follows decision "
                        f"{st.probation['decision']}",), (), decision)
    warnings = []
    due = date.fromisoformat(st.probation["review_date"])
    if (due - on).days >= EARLY_PROBATION_DAYS:
        warnings.append(f"this probation review is {(due - on).days} days before its date "
                        f"({due}): the controlled period is meant to run its course")
    return Verdict((), tuple(warnings), st.probation["decision"])


def _maintenance(st: Status, level: Level | None, who: str, on: date,
                 decision: str | None) -> Verdict:
    if level is None or level.revalidation is None:
        return Verdict((f"{who}: level {st.spell.level!r} has no re-validation, so there is "
                        "no competency maintenance review to record",), (), decision)
    warnings = []
    if st.drift_recheck is not None:
        warnings.append(f"a drift is open (re-check by {st.drift_recheck}): a `recheck` "
                        "review resolves it")
    elif st.valid_until is not None and st.authorization != "lapsed":
        early = (st.valid_until - on).days
        if early > level.revalidation.interval_days // 3:
            warnings.append(f"this maintenance review is {early} days before re-validation "
                            f"is due ({st.valid_until})")
    return Verdict((), tuple(warnings), decision or st.spell.ref)


def _recheck(st: Status, who: str, decision: str | None) -> Verdict:
    if decision is not None:
        if decision in st.open_plans:
            return Verdict((), (), decision)
        return Verdict((f"--decision {decision}: no open development plan from that "
                        "decision to re-check",), (), decision)
    if st.drift_recheck is not None:
        return Verdict((), (), None)
    if st.open_plans:
        return Verdict((), (), st.open_plans[-1])
    return Verdict((f"{who}: nothing to re-check: no open drift and no open development "
                    "plan",), (), decision)
