"""Records that configure promoctl rather than describe people: the repository's
``promoctl.yaml`` (policy, signing, letters) and LMS mappings (which course or xAPI
activity is which milestone)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from promoctl.records.fields import FormatVersion, Id, Strict, Text


class SeparationOfDuties(Strict):
    """Who may not sit on a candidate's panel (each on unless turned off), and whether
    a candidate may assess their own evidence. People are matched by id, or by name."""

    candidate: bool = True  # the candidate is not on their own panel
    manager: bool = True  # nor is the candidate's manager
    supervisor: bool = True  # nor the packet's supervisor
    assessors: bool = True  # nor anyone who assessed or rated evidence in the packet
    self_assessment: bool = True  # no evidence in a packet is assessed by its candidate


class Signing(Strict):
    """Decision and review commits signed with git's own SSH or GPG signing, verified by
    ``audit`` against ``allowed_signers`` (an ssh allowed-signers file in the repository)."""

    required: bool = False
    allowed_signers: Text = ".promoctl/allowed_signers"


class Policy(Strict):
    separation_of_duties: SeparationOfDuties = SeparationOfDuties.model_construct()
    signing: Signing = Signing.model_construct()


class LetterSettings(Strict):
    """How decision letters greet and close. ``{name}``, ``{first_name}`` (salutation)
    and ``{contact}`` (questions, appeal) are replaced; nothing else is."""

    salutation: Text = "Dear {first_name},"
    signatory: Text = "Human Resources"
    signatory_title: str | None = None
    contact: Text = "Human Resources"
    contact_details: str | None = None  # an email address or a telephone number
    questions: Text = ("If you have any questions about this decision, please speak to your "
                       "line manager or contact {contact}.")
    appeal: Text = ("If you believe the decision is wrong, you may ask for it to be "
                    "reviewed: write to {contact}, saying which part of the decision you "
                    "disagree with and why, and they will explain the procedure and its "
                    "timescales.")

    @field_validator("salutation", mode="after")
    @classmethod
    def _salutation_placeholders(cls, value: str) -> str:
        return _known_placeholders(value, ("name", "first_name"))

    @field_validator("questions", "appeal", mode="after")
    @classmethod
    def _contact_placeholders(cls, value: str) -> str:
        return _known_placeholders(value, ("contact",))


def _known_placeholders(text: str, known: tuple[str, ...]) -> str:
    """A placeholder letters do not fill would reach the candidate as written."""
    unknown = [m for m in re.findall(r"\{([^{}]*)\}", text) if m not in known]
    if unknown:
        raise ValueError(f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}"
                         f"; this text may use {', '.join('{' + k + '}' for k in known)}")
    return text


class RepositoryConfig(Strict):
    """``promoctl.yaml`` at the root: marks the repository and holds its settings."""

    kind: Literal["repository"]
    format: FormatVersion
    name: Text
    description: str | None = None
    policy: Policy = Policy.model_construct()
    letters: LetterSettings = LetterSettings.model_construct()


# --------------------------------------------------------------------------- lms-mapping


class LmsColumns(Strict):
    """The header of each column in an LMS CSV export, when it is not one promoctl knows."""

    person: str | None = None  # a promoctl person id
    email: str | None = None
    course: str | None = None
    date: str | None = None  # the completion date
    grade: str | None = None  # a percentage, or points as "17/20"
    status: str | None = None
    project: str | None = None  # project accepted: yes/no


class LmsCourse(Strict):
    """One LMS course and the milestone it stands for in promotion evidence."""

    course: Text  # the course's name or id as the LMS writes it
    aliases: list[Text] = Field(default_factory=list)  # other names or ids (an xAPI IRI)
    milestone: Text
    competencies: list[Id] = Field(default_factory=list)


class XapiVerb(Strict):
    """What an xAPI verb says about a course, for a verb promoctl does not know."""

    id: Text  # the verb's IRI
    completed: bool | None = None
    passed: bool | None = None


class LmsMapping(Strict):
    """Which LMS course is which milestone, for ``promoctl import lms-csv`` and ``xapi``."""

    kind: Literal["lms-mapping"]
    format: FormatVersion
    id: Id
    title: str | None = None
    framework: Id
    columns: LmsColumns = LmsColumns.model_construct()
    # strptime format of the CSV's dates when they are not YYYY-MM-DD (e.g. "%d/%m/%Y")
    date_format: str | None = None
    # More xAPI verbs to import, besides those promoctl knows (see ``interop.xapi``).
    verbs: list[XapiVerb] = Field(default_factory=list)
    courses: list[LmsCourse] = Field(min_length=1)
