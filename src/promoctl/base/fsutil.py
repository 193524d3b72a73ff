"""Atomic file writes: a reader sees the old content or the new, never half of either."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from promoctl.base.errors import UserError


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


class Unreadable(Exception):
    """A file promoctl will not read; the message says why, in the user's terms, to
    follow the file's name ("file is a named pipe ...")."""


class TooLarge(Unreadable):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"is {size:,} bytes, over the limit of {limit:,}")
        self.size = size


def read_regular(path: Path | str, root: Path | str | None = None,
                 limit: int | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file (inside ``root`` when given);
    more than ``limit`` bytes is refused without reading them all. See ``chunks``."""
    return b"".join(chunks(path, root, limit))


def chunks(path: Path | str, root: Path | str | None = None,
           limit: int | None = None) -> Iterator[bytes]:
    """The bytes of ``path``, a megabyte at a time, if it is a regular file.

    A FIFO, device or socket is refused before it is opened, and the file is opened
    non-blocking and checked again with ``fstat``, so one swapped in between cannot make
    promoctl wait either. A symbolic link is followed only when what it points at is
    inside ``root``; a loop is a problem. Raises ``Unreadable``, never ``OSError``.
    """
    name = os.fspath(path)
    try:
        info = os.lstat(name)
        if stat.S_ISLNK(info.st_mode):
            _check_link(name, root)
            info = os.stat(name)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"is {_what(info.st_mode)}, not a regular file")
        # Non-blocking all the same: the file may be swapped for a FIFO after the check.
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise Unreadable(reason(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"is {_what(info.st_mode)}, not a regular file")
        if limit is not None and info.st_size > limit:
            raise TooLarge(info.st_size, limit)
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if limit is not None and size > limit:  # it grew while being read
                raise TooLarge(size, limit)
            yield chunk
    except OSError as exc:
        raise Unreadable(reason(exc)) from None
    finally:
        os.close(fd)


def _check_link(name: str, root: Path | str | None) -> None:
    try:
        target = os.path.realpath(name, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("is a symbolic link that loops (it points back at itself "
                             "through other links)") from None
        if exc.errno == errno.ENOENT:
            raise Unreadable("is a symbolic link to a file that does not exist") from None
        raise
    if root is not None:
        base = os.path.realpath(root)
        if os.path.commonpath([base, target]) != base:
            raise Unreadable("is a symbolic link to a file outside the repository; "
                             "promoctl reads only files inside it")


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def reason(exc: OSError) -> str:
    """Why a file could not be read, to follow its name."""
    if exc.errno == errno.ELOOP:
        return "is a symbolic link that loops (it points back at itself through other links)"
    if exc.errno == errno.ENOENT:
        return "does not exist"
    if exc.errno == errno.ENXIO:  # a FIFO or socket nobody has open
        return "is a named pipe or socket, not a regular file"
    return f"cannot be read: {exc.strerror or exc}"
