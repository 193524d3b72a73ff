"""xAPI statements (a JSON list, one statement, or an LRS ``{"statements": [...]}`` page).

Statements with the ADL verbs completed, passed and failed become completions; any other
verb is ignored and counted. The person is the actor's ``mbox`` (matched to a person's
email), ``mbox_sha1sum``, or ``account.name`` (a person id or an email). The course is
the object's id or name, looked up in the mapping; for an attempt (Moodle's quiz
attempts) the assessment it is an attempt of counts too. The score is ``score.scaled``
(x 100) when given, else ``(raw - min) / (max - min)``; when both are given and disagree,
a warning says so. The date is the statement's ``timestamp`` (else ``stored``), as written.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from promoctl.errors import InvalidRecords, Problem, Problems
from promoctl.interop.common import jpath, load_json
from promoctl.interop.evidence import Batch, Completion
from promoctl.interop.html_text import clean_chars

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {ADL + "completed": None, ADL + "passed": True, ADL + "failed": False}
ATTEMPT = "http://adlnet.gov/expapi/activities/attempt"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
_MAX_EXPONENT = 15


def read_statements(raw: bytes, display: str) -> Batch:
    data = load_json(raw, display)
    base: tuple[str | int, ...] = ()
    if isinstance(data, dict) and isinstance(data.get("statements"), list):
        statements, base = data["statements"], ("statements",)
    elif isinstance(data, dict):
        statements = [data]
    elif isinstance(data, list):
        statements = data
    else:
        raise InvalidRecords([Problem(display, 0, 0, "$: expected xAPI statements (a list, "
                                      "one statement, or an object with 'statements')")])
    batch = Batch()
    problems: list[Problem] = Problems()
    for i, statement in enumerate(statements):
        path = jpath(*base, i) if base or isinstance(data, list) else "$"
        if not isinstance(statement, dict):
            problems.append(Problem(display, 0, 0, f"{path}: expected a statement (an "
                                    "object)"))
            continue
        missing = [k for k in ("actor", "verb", "object") if not isinstance(statement.get(k),
                                                                            dict)]
        if missing:
            problems.append(Problem(display, 0, 0, f"{path}: not an xAPI statement: no "
                                    f"{', '.join(missing)} object"))
            continue
        _statement(batch, statement, path, display)
    if problems:
        raise InvalidRecords(problems)
    return batch


def _text(value: Any) -> str | None:
    return clean_chars(value).strip() or None if isinstance(value, str) else None


def _names(activity: dict[str, Any]) -> list[str]:
    out = [n for n in [_text(activity.get("id"))] if n]
    definition = activity.get("definition")
    if isinstance(definition, dict) and isinstance(definition.get("name"), dict):
        out.extend(n for n in map(_text, definition["name"].values()) if n)
    return out


def _type(activity: dict[str, Any]) -> str | None:
    definition = activity.get("definition")
    return _text(definition.get("type")) if isinstance(definition, dict) else None


def _statement(batch: Batch, st: dict[str, Any], path: str, display: str) -> None:
    ident = _text(st.get("id"))
    where = f"statement {path}" + (f" (id {ident})" if ident else "")
    verb = _text(st["verb"].get("id")) or "(none)"
    if verb not in VERBS:
        batch.ignore(f"verb {verb.rsplit('/', 1)[-1]!r} is not imported (only completed, "
                     "passed and failed)", where)
        return
    actor = st["actor"]
    if actor.get("objectType") == "Group":
        batch.skip("the actor is a group; only individual learners are imported", where)
        return
    email = _text(actor.get("mbox"))
    if email is not None:
        email = email.removeprefix("mailto:")
    account = actor.get("account")
    account_name = _text(account.get("name")) if isinstance(account, dict) else None
    sha1 = _text(actor.get("mbox_sha1sum"))
    if not (email or account_name or sha1):
        batch.skip("the actor has no mbox, mbox_sha1sum or account", where)
        return
    obj = st["object"]
    if obj.get("objectType", "Activity") != "Activity":
        batch.skip(f"the object is a {obj.get('objectType')}, not an activity", where)
        return
    courses = _names(obj)
    if _type(obj) == ATTEMPT:
        context = st.get("context")
        parents = context.get("contextActivities", {}).get("parent", []) \
            if isinstance(context, dict) and isinstance(context.get("contextActivities"),
                                                        dict) else []
        for parent in parents if isinstance(parents, list) else []:
            if isinstance(parent, dict) and _type(parent) == ASSESSMENT:
                courses.extend(_names(parent))
    if not courses:
        batch.skip("the object has no id or name", where)
        return
    when = _when(st)
    if when is None:
        batch.skip("no timestamp (or stored) date", where)
        return
    result = st.get("result") if isinstance(st.get("result"), dict) else {}
    assert isinstance(result, dict)
    passed = VERBS[verb]
    success = result.get("success")
    if passed is None and isinstance(success, bool):
        passed = success
    assessment, why = _score(result.get("score"), where, batch)
    if why:
        batch.skip(why, where)
        return
    batch.completions.append(Completion(
        where=where, courses=tuple(courses), date=when, email=email, account=account_name,
        mbox_sha1=sha1, passed=passed, assessment=assessment))


def _when(st: dict[str, Any]) -> date | None:
    for key in ("timestamp", "stored"):
        value = _text(st.get(key))
        if value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            except ValueError:
                continue
    return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    number = Decimal(value)
    if number and not -_MAX_EXPONENT <= number.adjusted() <= _MAX_EXPONENT:
        return None
    return number


def _score(score: Any, where: str, batch: Batch) -> tuple[Decimal | None, str]:
    if not isinstance(score, dict):
        return None, ""
    scaled = _number(score.get("scaled"))
    raw, top = _number(score.get("raw")), _number(score.get("max"))
    bottom = _number(score.get("min")) or Decimal(0)
    from_raw = None
    if raw is not None and top is not None and top > bottom:
        from_raw = (raw - bottom) / (top - bottom) * 100
    if scaled is not None:
        if not 0 <= scaled <= 1:
            return None, f"score.scaled {scaled} is outside 0 to 1"
        percent = scaled * 100
        if from_raw is not None and abs(from_raw - percent) > Decimal("0.5"):
            batch.warnings.append(f"{where}: score.scaled gives {percent.normalize():f}%, "
                                  f"raw/min/max would give {from_raw.normalize():f}%; the "
                                  "scaled score is used")
        return percent, ""
    if score.get("scaled") is not None:
        return None, f"score.scaled {score.get('scaled')!r} is not a number"
    if from_raw is None:
        if raw is not None or top is not None:
            return None, "score has raw without max (or max not above min)"
        return None, ""
    if not 0 <= from_raw <= 100:
        return None, f"score raw {raw} is outside min {bottom} to max {top}"
    return from_raw, ""
