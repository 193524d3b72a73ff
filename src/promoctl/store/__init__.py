"""Everything promoctl remembers between runs, in one SQLite file under ``.git/promoctl/``.

File stats and content keys, what each record file holds, the references between
records (``index``, with the state of the work tree they stand for), check results,
evaluation and report results, and the memo of recent runs; a run's spill tables;
running work on every core (``parallel``). The store only ever saves work: a missing,
corrupt or foreign database is rebuilt, and an answer never depends on it.

May import: ``promoctl.base``. Only ``promoctl.records`` uses the store's record
tables (so no domain module can tell whether a record came from the cache); the engine
and the reports keep their computed results in it through ``store.results`` alone.
"""
