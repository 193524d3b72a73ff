"""What a panel and a reviewer record: preparing a decision from its evaluation,
applying separation of duties (``records.duties``), reviews, and writing each record as
its own (optionally signed) git commit, crash-safely.

May import: ``promoctl.base``, ``promoctl.records``, ``promoctl.engine``.
"""
