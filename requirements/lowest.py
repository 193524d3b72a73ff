"""Print pip constraints pinning each runtime dependency to the lowest version its range allows.

`make test-oldest` installs with them, so a lower bound in pyproject.toml is one the suite has
passed against rather than a guess.
"""

from __future__ import annotations

import re
import sys
import tomllib

LOWER = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*[^;]*?>=\s*([0-9][^,;\s]*)")


def main(pyproject: str) -> int:
    with open(pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["pdf"])
    for requirement in wanted:
        match = LOWER.match(requirement)
        if match:
            print(f"{match[1]}=={match[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
