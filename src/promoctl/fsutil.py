"""Atomic file writes: a reader sees the old content or the new, never half of either."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from promoctl.errors import UserError


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes, *, overwrite: bool = False,
                 tmp_dir: Path | None = None) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder (or in ``tmp_dir``,
    which must be on the same filesystem).

    With ``overwrite=False`` an existing file is never replaced, even by a concurrent
    writer: the final step is a hard link, which fails if the name already exists.
    """
    import tempfile  # here: a run that writes nothing need not import it

    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                    dir=tmp_dir or path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise UserError(f"{path}: already exists; promoctl never overwrites a "
                                "record") from None
            tmp.unlink()
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
