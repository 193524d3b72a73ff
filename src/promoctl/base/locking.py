"""An advisory lock so two promoctl runs in one checkout do not interleave their writes."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from promoctl.base.errors import UserError


@contextmanager
def exclusive(lock_file: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold ``lock_file`` exclusively; a second run waits for the first, up to ``timeout``."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UserError(f"another promoctl run holds {lock_file}; try again when "
                                    "it has finished") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
