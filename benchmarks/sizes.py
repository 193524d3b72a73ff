"""What the benchmark generates and where: the sizes of the synthetic repository, the
span of its history, and the folders it is written to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
EXAMPLES = PROJECT / "examples"
SCHEMAS = PROJECT / "schemas"
DEFAULT_DIR = HERE / "out" / "repo"
QUICK_DIR = HERE / "out" / "repo-quick"
BIG_DIR = HERE / "out" / "repo-big"
DEFAULT_SEED = 20261015
PARSER_SAMPLE = 300
# Bump when the generated content changes, so an old repository is not reused.
GENERATOR_VERSION = 5  # 3, 4: panels and assessors keep the separation of duties;
# 5: peers give whole points (a score must be a level of the scale)
MANIFEST = ".bench-manifest.json"
WIDTH = 100


@dataclass(frozen=True)
class Size:
    """How much to generate. Decisions and reviews are targets: fewer are made when the
    packets (or approvals) run out; commits are a budget the history is spread over."""

    people: int
    packets: int
    decisions: int
    reviews: int
    commits: int

    def scaled(self, factor: int) -> Size:
        return Size(*(n * factor for n in (self.people, self.packets, self.decisions,
                                           self.reviews, self.commits)))


DEFAULT_SIZE = Size(people=20_000, packets=10_000, decisions=10_000, reviews=5_000,
                    commits=10_000)
QUICK_SIZE = Size(people=2_000, packets=1_000, decisions=1_000, reviews=500, commits=1_000)
BIG_SIZE = DEFAULT_SIZE.scaled(10)

# The history: HR records first, packets submitted over four and a half years, a rubric
# revision in between (decisions before it replay with the old weights), reviews until
# shortly before "today".
HISTORY_START = date(2021, 11, 1)
FIRST_SUBMISSION = date(2022, 1, 10)
LAST_SUBMISSION = date(2026, 6, 30)
REVISION_DAY = date(2024, 3, 1)
HISTORY_END = date(2026, 10, 30)
PACKET_COMMIT_SHARE = 0.15  # of the commit budget, for batches of submitted packets
SUPERSEDE_RATE = 0.04  # of decisions not approving: corrected later by a superseding one
PLACEHOLDER_COMMIT = "f" * 40  # inputs.commit until fast-import names the real commit
