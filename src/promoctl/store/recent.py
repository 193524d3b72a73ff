"""The last few thousand values a run looked up, kept in memory.

Passes over many files ask about the same file several times in a row (is it cached?
read it, check it), and read the same few records (a ladder, a framework, a manager)
again and again. Kept in two generations: when the newer is full it becomes the older
and the older is forgotten; a value found in the older moves to the newer. So memory
is bounded, and what is in use stays.
"""

from __future__ import annotations

from typing import Any

SIZE = 4_096
MISSING: Any = object()


class Recent:
    def __init__(self, size: int | None = None) -> None:
        self.size = size or SIZE
        self.new: dict[Any, Any] = {}
        self.old: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        """The value, or ``MISSING`` when it is not kept (None is a value: a miss)."""
        value = self.new.get(key, MISSING)
        if value is MISSING:
            value = self.old.get(key, MISSING)
            if value is not MISSING:
                self.put(key, value)
        return value

    def put(self, key: Any, value: Any) -> None:
        if len(self.new) >= self.size:
            self.old, self.new = self.new, {}
        self.new[key] = value

    def forget(self, key: Any) -> None:
        self.new.pop(key, None)
        self.old.pop(key, None)
