"""Reading the past from git: the log, a record's trail, replaying a decision from the
inputs it names, impact of a change, seals, and the audit that checks all of it.

May import: ``promoctl.base``, ``promoctl.records``, ``promoctl.engine``,
``promoctl.decisions``.
"""
