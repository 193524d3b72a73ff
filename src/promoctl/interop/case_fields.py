"""The CASE fields a promoctl framework has no place for, kept so an export gives them back.

They are kept in the description's last paragraph (see ``framework_file``) as one line of
JSON, ``CASE fields: {...}``: a document's creator, adoption status, language, ... and an
item's abbreviated statement, education levels, list enumeration, ... An item imported
without a type keeps ``"CFItemType": null`` there, so that its export has no type either
(promoctl gives it the category ``core``). A statement, notes or description that was
HTML is kept as written too, and written back as long as promoctl's text of it is not
edited. Fields only CASE 1.1 has are written back only
when the package had them, so a CASE 1.0 package stays valid for 1.0 readers.
"""

from __future__ import annotations

import json
from typing import Any

from promoctl.interop.common import MAX_CELL_CHARS
from promoctl.interop.html_text import clean_chars

DOCUMENT = ("uri", "creator", "adoptionStatus", "language", "licenseURI", "notes",
            "officialSourceURL", "publisher", "statusStartDate", "statusEndDate", "subject",
            "subjectURI", "caseVersion", "frameworkType", "extensions")
ITEM = ("uri", "abbreviatedStatement", "alternativeLabel", "conceptKeywords", "conceptKeywordsURI",
        "educationLevel", "language", "licenseURI", "listEnumeration", "statusStartDate",
        "statusEndDate", "CFItemTypeURI", "subject", "subjectURI", "extensions")
UNTYPED = "CFItemType"
# Every field CASE 1.0 and 1.1 define for an item; others are reported.
KNOWN_ITEM = frozenset((*ITEM, "identifier", "fullStatement", "humanCodingScheme", "notes",
                        "CFItemType", "lastChangeDateTime", "CFDocumentURI"))


def original(fields: dict[str, Any], name: str, written: str, converted: str) -> None:
    """Keep the text as the package wrote it when promoctl's text differs (HTML made
    Markdown), so an export can give it back while the text is left unedited."""
    if written.strip() and converted != written:
        fields[name] = clean_chars(written)


def given_back(fields: dict[str, Any], name: str, text: str, convert: Any) -> str:
    """The original text when ``text`` is still what it converts to, else ``text``."""
    kept_text = fields.get(name)
    if isinstance(kept_text, str) and convert(kept_text) == text:
        return kept_text
    return text


def _plain(value: Any) -> Any:
    """JSON data as read, without control characters in its text."""
    if isinstance(value, str):
        return clean_chars(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None:
        return value
    return int(value) if value == int(value) else float(value)


def kept(obj: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``obj`` among ``names`` that have a value."""
    return {k: _plain(obj[k]) for k in names if obj.get(k) not in (None, "", [], {})}


def encode(fields: dict[str, Any]) -> str | None:
    """One line of JSON, or None when there is nothing to keep or it is too long."""
    if not fields:
        return None
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= MAX_CELL_CHARS else None


def decode(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:  # edited by hand into something else: nothing to give back
        return {}
    return value if isinstance(value, dict) else {}
