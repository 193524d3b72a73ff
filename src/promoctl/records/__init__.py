"""The records: their models, reading YAML with positions, loading a repository and
checking it (every problem, with its place; a few files against the reference index,
``nearby``), the JSON schemas and the starter.

This is the interface to the store: a repository is opened and validated here, and
whether a record came from its file or from the store is decided here alone.

May import: ``promoctl.base``, ``promoctl.store``.
"""
