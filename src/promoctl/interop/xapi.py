"""xAPI statements (a JSON list, one statement, or an LRS ``{"statements": [...]}`` page).

Every statement that says something about a course (see ``MEANINGS``) is kept as its own
completion, identified by its statement id, so a retake, a pass after a failure or cmi5's
"passed" then "completed" are all kept; the level's ``lms_rules`` choose the best. A
``voided`` statement removes the statement it names from the batch. The person is the
actor's ``account`` (``homePage`` and ``name``, matched to a person's ``accounts``), its
``mbox`` (a person's email), ``mbox_sha1sum``, or an account name that is a person id or
email. The course is the object's id or name, looked up in the mapping; for an attempt
(Moodle's quiz attempts) the assessment it is an attempt of counts too. The score keeps
``raw`` (with ``min`` and ``max``) as given; the percentage is ``score.scaled`` x 100 when
given, else ``(raw - min) / (max - min)`` when ``max`` is; a score that gives no
percentage leaves the rest of the statement as it is. The date is the statement's
``timestamp`` (else ``stored``), as written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from promoctl.base.errors import InvalidRecords, Problem, Problems
from promoctl.interop.common import jpath, load_json, read_input
from promoctl.interop.evidence import Batch, Completion
from promoctl.interop.html_text import clean_chars
from promoctl.records.settings import LmsMapping

# What each verb says: (completed, passed); None leaves it to the statement's
# result.completion and result.success.
MEANINGS: dict[str, tuple[bool | None, bool | None]] = {
    "completed": (True, None),
    "passed": (True, True),  # a learner who passed has finished the assessment
    "failed": (None, False),  # a failure is not a completion
    "satisfied": (True, None),  # cmi5: the block's or course's moveOn criteria are met
    "scored": (None, None),  # a grade: the score, and success when given
    "achieved": (True, True),  # a badge, a certificate, a competency
    "mastered": (True, True),
}
# The vocabularies those verbs are published in: ADL's, cmi5's (w3id adl), the TLA's
# (Moodle's xAPI plugin sends tla scored and achieved) and DoD ISD's.
VOCABULARIES = ("http://adlnet.gov/expapi/verbs/", "https://adlnet.gov/expapi/verbs/",
                "https://w3id.org/xapi/adl/verbs/", "https://w3id.org/xapi/tla/verbs/",
                "https://w3id.org/xapi/dod-isd/verbs/")
VERBS = {prefix + name: meaning for prefix in VOCABULARIES
         for name, meaning in MEANINGS.items()}
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
ATTEMPT = "http://adlnet.gov/expapi/activities/attempt"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
_MAX_EXPONENT = 15


@dataclass(frozen=True)
class Page:
    """One file of statements as read: each statement with its JSON path, and the
    page's ``more`` link."""

    path: Path
    source: str  # the file's name and hash, for the items' notes
    prefix: str  # the file's name in each statement's "where", when there are several
    statements: list[tuple[str, dict[str, Any]]]
    more: str


def source_name(path: Path, raw: bytes) -> str:
    return f"{path.name} (sha256 {hashlib.sha256(raw).hexdigest()[:12]})"


def read_pages(paths: list[Path]) -> list[Page]:
    """The files and folders of files (a folder: its ``*.json``, by name) of statements,
    checked. A page's ``more`` link is followed when it names a saved file next to it."""
    queue = [f for p in paths for f in (sorted(p.glob("*.json")) if p.is_dir() else [p])]
    if not queue:
        raise InvalidRecords([Problem(p.as_posix(), 0, 0, "no .json files in this folder")
                              for p in paths])
    done: set[Path] = set()
    pages: list[Page] = []
    problems: list[Problem] = Problems()
    several = len(queue) > 1
    while queue:
        path = queue.pop(0)
        if path.resolve() in done:
            continue
        done.add(path.resolve())
        raw = read_input(path)
        try:
            statements, more = _load(raw, path.as_posix())
        except InvalidRecords as exc:
            problems.extend(exc.problems)
            continue
        following = _local(path, more)
        if following is not None and following.resolve() not in done:
            queue.insert(0, following)
            several = True
        pages.append(Page(path, source_name(path, raw), path.name if several else "",
                          statements, more))
    if problems:
        raise InvalidRecords(problems)
    return pages


def completions(pages: list[Page], mapping: LmsMapping | None = None) -> Batch:
    """What the statements of ``pages`` say, with the mapping's own verbs."""
    verbs = dict(VERBS)
    for verb in mapping.verbs if mapping is not None else ():
        verbs[verb.id] = (verb.completed, verb.passed)
    batch = Batch()
    for page in pages:
        for path, statement in page.statements:
            _statement(batch, statement, f"{page.prefix} statement {path}".lstrip(),
                       page.source, verbs)
    _check_chain(pages, batch)
    return batch


def _local(page: Path, more: str) -> Path | None:
    """The saved file a ``more`` link names (a relative path or a file: URL), if any."""
    if not more or ("://" in more and not more.startswith("file://")):
        return None
    target = more.removeprefix("file://")
    candidate = page.parent / target if not Path(target).is_absolute() else Path(target)
    return candidate if candidate.is_file() else None


def _check_chain(pages: list[Page], batch: Batch) -> None:
    with_more = [p for p in pages if p.more and _local(p.path, p.more) is None]
    if with_more and all(p.more for p in pages):
        last = with_more[-1]
        batch.warnings.append(f"{last.path.name}: the LRS has more statements ({last.more}) "
                              "and none of the files given is the last page (one without "
                              "'more'): fetch the rest and import those pages too")


def _load(raw: bytes, display: str) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The statements of one file, each with its JSON path, and the file's ``more``."""
    data = load_json(raw, display)
    base: tuple[str | int, ...] = ()
    more = ""
    if isinstance(data, dict) and isinstance(data.get("statements"), list):
        statements, base = data["statements"], ("statements",)
        more = _text(data.get("more")) or ""
    elif isinstance(data, dict):
        statements = [data]
    elif isinstance(data, list):
        statements = data
    else:
        raise InvalidRecords([Problem(display, 0, 0, "$: expected xAPI statements (a list, "
                                      "one statement, or an object with 'statements')")])
    problems: list[Problem] = Problems()
    out: list[tuple[str, dict[str, Any]]] = []
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
        out.append((path, statement))
    if problems:
        raise InvalidRecords(problems)
    return out, more


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


def _key(st: dict[str, Any], ident: str | None) -> str:
    if ident:
        return f"statement {ident.lower()}"
    # No id (a hand-made file): the statement's content is what makes it this attempt.
    text = json.dumps(st, sort_keys=True, default=str, ensure_ascii=False)
    return "statement content " + hashlib.sha256(text.encode()).hexdigest()


def _statement(batch: Batch, st: dict[str, Any], path: str, source: str,
               verbs: dict[str, tuple[bool | None, bool | None]]) -> None:
    ident = _text(st.get("id"))
    where = path + (f" (id {ident})" if ident else "")
    verb = _text(st["verb"].get("id")) or "(none)"
    if verb == VOIDED:
        target = st["object"]
        voided = _text(target.get("id")) if target.get("objectType") == "StatementRef" \
            else None
        if voided is None:
            batch.skip("a voided statement whose object is not a StatementRef", where)
        else:
            batch.voided[voided.lower()] = where
        return
    if verb not in verbs:
        batch.ignore(f"verb {verb.rsplit('/', 1)[-1]!r} is not imported (a mapping's verbs "
                     "can add it)", where)
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
    home_page = _text(account.get("homePage")) if isinstance(account, dict) else None
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
    completed, passed = verbs[verb]
    if completed is None and isinstance(result.get("completion"), bool):
        completed = result["completion"]
    if passed is None and isinstance(result.get("success"), bool):
        passed = result["success"]
    assessment, raw_score = _score(result.get("score"), where, batch)
    if completed is None and passed is None and assessment is None and raw_score is None:
        batch.ignore("says nothing about the course (no completion, success or score)",
                     where)
        return
    batch.completions.append(Completion(
        where=where, courses=tuple(courses), date=when, key=_key(st, ident), email=email,
        account=account_name, home_page=home_page, mbox_sha1=sha1, completed=completed,
        passed=passed, assessment=assessment, raw_score=raw_score,
        statement_id=ident.lower() if ident else None, source=source))


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


RawScore = tuple[Decimal, Decimal | None, Decimal | None]


def _score(score: Any, where: str, batch: Batch) -> tuple[Decimal | None, RawScore | None]:
    """The percentage, where one can be computed, and the raw score as given. A score
    that cannot be used is left out with a warning; the statement still counts."""
    if not isinstance(score, dict):
        return None, None
    values = {k: _number(score.get(k)) for k in ("scaled", "raw", "min", "max")}
    for key, value in values.items():
        if score.get(key) is not None and value is None:
            batch.warnings.append(f"{where}: score.{key} {score.get(key)!r} is not a number; "
                                  "left out")
    scaled, raw, bottom, top = (values[k] for k in ("scaled", "raw", "min", "max"))
    raw_score = (raw, bottom, top) if raw is not None else None
    from_raw = None
    if raw is not None and top is not None and top > (bottom or 0):
        from_raw = (raw - (bottom or 0)) / (top - (bottom or 0)) * 100
    if scaled is not None and from_raw is not None \
            and abs(from_raw - scaled * 100) > Decimal("0.5"):
            batch.warnings.append(f"{where}: score.scaled gives "
                                  f"{(scaled * 100).normalize():f}%, "
                                  f"raw/min/max would give {from_raw.normalize():f}%; the "
                                  "scaled score is used")
    percent: Decimal | None = from_raw if scaled is None else scaled * 100
    if percent is not None and not 0 <= percent <= 100:
        batch.warnings.append(f"{where}: the score gives {percent.normalize():f}%, outside 0 "
                              "to 100; no percentage is kept")
        percent = None
    return percent, raw_score
