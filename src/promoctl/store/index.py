"""The reference index: every record of the last whole run, by kind and id, and the ids
each one names, both ways; with the state of the work tree it was taken in (the basis).

A pre-commit run (``validate FILE`` just after FILE was edited) answers from it: it asks
which records name an id, or share one, and reads only those files. The index is
written whole by a run over the whole repository that found no error, and stands for
the files as they were then: the basis says what git and the file system looked like,
so a later run can tell which files may have changed since (``worktree.Asking``). The
rows are the store's, under its schema and code stamp; a run that finds no basis, or
one that is not complete, simply does the work.
"""

from __future__ import annotations

import secrets
from collections.abc import Container, Iterable, Iterator
from pathlib import Path
from typing import Any

from promoctl.store.cache import code_fingerprint
from promoctl.store.cachedb import SCHEMA, Store, as_bytes, from_bytes, json_text, loads, peek

# A whole run's index rows: (name, kind, id, content key) and the (kind, id) it names.
Row = tuple[str, str, str, str, list[tuple[str, str]]]
# Rows written at a time: memory stays small whatever the repository's size.
_BATCH = 2_000
# SQLite's limit on the values of one statement is far above this.
_CHUNK = 500


def write(store: Store, rows: Iterable[Row], asked: Container[str]) -> str | None:
    """Make the index hold ``rows`` (only files whose content key changed are written
    again), in one transaction; the token a basis must name to stand for it (None when
    the store could not be written). Only ids of the ``asked`` kinds are found by who
    names them (``naming``): a ladder is named by nearly every record."""
    token = secrets.token_hex(8)

    def change(con: Any) -> None:
        known = dict(con.execute("SELECT name, key FROM records"))
        con.execute("DELETE FROM basis")
        batch: list[Row] = []
        for row in rows:
            name = as_bytes(row[0])
            key = known.pop(name, None)
            if key != row[3]:
                if key is not None:
                    _forget(con, [name])
                batch.append(row)
                if len(batch) >= _BATCH:
                    _insert(con, batch, asked)
        _insert(con, batch, asked)
        _forget(con, list(known))  # files the run did not read
        con.execute("INSERT INTO basis VALUES (?)", (json_text({"token": token}),))

    store.change(change)
    return token if basis(store, complete=False) == {"token": token} else None


def _forget(con: Any, names: list[bytes]) -> None:
    """Delete the rows of these files, their links first (found by what they name)."""
    for chunk in _chunks(names):
        marks = ",".join("?" * len(chunk))
        found = con.execute(f"SELECT name, kind, named FROM records WHERE name IN ({marks})",
                            chunk).fetchall()
        con.executemany("DELETE FROM links WHERE id = ? AND kind = ? AND of = ? AND name = ?",
                        [(i, k, of, name) for name, of, named in found
                         for k, i in (loads(named) or ())])
        con.executemany("DELETE FROM records WHERE name = ?", ((n,) for n in chunk))


def _insert(con: Any, batch: list[Row], asked: Container[str]) -> None:
    """Write the rows of ``batch`` (files not in the index), and empty it."""
    con.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)",
                    ((as_bytes(name), kind, record_id, key, json_text(named))
                     for name, kind, record_id, key, named in batch))
    con.executemany("INSERT OR IGNORE INTO links VALUES (?, ?, ?, ?)", sorted(
        (i, k, kind, as_bytes(name)) for name, kind, _id, _key, named in batch
        for k, i in named if k in asked))
    batch.clear()


def set_basis(store: Store, token: str, body: dict[str, Any]) -> None:
    """Complete the basis of the index written with ``token`` (if it is still that one)."""
    store.change(lambda con: con.execute(
        "UPDATE basis SET body = ? WHERE body = ?",
        (json_text({**body, "token": token}), json_text({"token": token}))))


def basis(store: Store, complete: bool = True) -> dict[str, Any] | None:
    """The basis of the index; None when there is none (or, with ``complete``, when the
    run that wrote the index did not finish it)."""
    return _basis(store.rows("SELECT body FROM basis"), complete)


def peeked_basis(path: Path) -> dict[str, Any] | None:
    """``basis``, complete, read without opening the store (``cachedb.peek``)."""
    return _basis(peek(path, (SCHEMA, code_fingerprint()), "SELECT body FROM basis", ()))


def _basis(found: list[Any], complete: bool = True) -> dict[str, Any] | None:
    body = loads(found[0][0]) if len(found) == 1 else None
    if not isinstance(body, dict) or (complete and "tree" not in body):
        return None
    return body


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for at in range(0, len(values), _CHUNK):
        yield values[at:at + _CHUNK]


def records(store: Store, names: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """name -> (kind, id, content key) of those of ``names`` in the index."""
    out: dict[str, tuple[str, str, str]] = {}
    for chunk in _chunks(sorted({as_bytes(n) for n in names})):
        marks = ",".join("?" * len(chunk))
        for name, kind, record_id, key in store.rows(
                f"SELECT name, kind, id, key FROM records WHERE name IN ({marks})",
                tuple(chunk)):
            out[from_bytes(name)] = (kind, record_id, key)
    return out


def with_ids(store: Store, pairs: Iterable[tuple[str, str]]) -> set[str]:
    """The names of the records that have one of these (kind, id)."""
    return _by_pair(store, "records", pairs)


def naming(store: Store, pairs: Iterable[tuple[str, str]],
           kinds: tuple[str, ...] | None = None) -> set[str]:
    """The names of the records (of ``kinds``, when given) that name one of these
    (kind, id), of the kinds ``write`` was asked to find so."""
    return _by_pair(store, "links", pairs, kinds)


def named_by(store: Store, names: Iterable[str]) -> set[tuple[str, str]]:
    """The (kind, id) the records of ``names`` name."""
    out: set[tuple[str, str]] = set()
    for chunk in _chunks(sorted({as_bytes(n) for n in names})):
        marks = ",".join("?" * len(chunk))
        for (named,) in store.rows(f"SELECT named FROM records WHERE name IN ({marks})",
                                   tuple(chunk)):
            found = loads(named)
            if isinstance(found, list):
                out.update((str(k), str(i)) for k, i in found)
    return out


def of_kinds(store: Store, kinds: tuple[str, ...]) -> set[str]:
    """The names of the records of these kinds."""
    marks = ",".join("?" * len(kinds))
    return {from_bytes(name) for (name,) in store.rows(
        f"SELECT name FROM records WHERE kind IN ({marks})", kinds)}


def in_folder(store: Store, folder: str) -> set[str]:
    """The names of the records directly in ``folder`` ("." for the top)."""
    prefix = "" if folder == "." else folder.rstrip("/") + "/"
    rows = store.rows("SELECT name FROM records WHERE name >= ? AND name < ?",
                      (as_bytes(prefix), as_bytes(prefix) + b"\xff"))
    names = (from_bytes(name) for (name,) in rows)
    return {name for name in names if "/" not in name[len(prefix):]}


def count(store: Store) -> int:
    found = store.rows("SELECT count(*) FROM records")
    return int(found[0][0]) if found else 0


def _by_pair(store: Store, table: str, pairs: Iterable[tuple[str, str]],
             kinds: tuple[str, ...] | None = None) -> set[str]:
    out: set[str] = set()
    wanted = set(pairs)
    of = "" if kinds is None else f" AND of IN ({','.join('?' * len(kinds))})"
    for chunk in _chunks(sorted({i for _k, i in wanted})):
        marks = ",".join("?" * len(chunk))
        for name, kind, record_id in store.rows(
                f"SELECT name, kind, id FROM {table} WHERE id IN ({marks}){of}",
                (*chunk, *(kinds or ()))):
            if (kind, record_id) in wanted:
                out.add(from_bytes(name))
    return out
