"""The benchmark: ``python -m benchmarks [--quick] [--baseline REV] [--only NAME,...]``
(see ``__main__`` and README "Performance").

The generator of the synthetic repository:
    ``generate`` (made once, reused), ``sizes`` (how much, which dates, where),
    ``staff``, ``packets``, ``deciding`` (decisions and reviews as promoctl writes them),
    ``history`` (the commits, through git fast-import), ``yamltext`` (record text).
What is measured, and how:
    ``versions`` (the working tree, and a baseline's exported src/, each on its own copy
    of the repository), ``processes`` (timed fresh processes, interleaved medians, cold
    and warm, caches), ``probes`` (peak memory and the parser, inside one version's
    interpreter), ``references`` (the C loader, git, check-jsonschema).
The measurements, by family, and the output:
    ``measure`` (every figure by name), ``measure_validate``, ``measure_commands``,
    ``measure_startup``, ``scaling``, ``context`` (what they share), ``table``.

The generator imports promoctl's internals (from the interpreter running the benchmark)
to build records exactly as promoctl does: in ``deciding``, ``history`` and
``yamltext``. Every version measured is run as its own processes, through the console
entry point its pyproject.toml names; the one internal a version is measured through is
its YAML parser (``probes.PARSER_MODULES``).
"""
