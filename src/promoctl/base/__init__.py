"""The ground floor: what every other package stands on.

Errors and their ``path:line:col`` form, terminal and CSV escaping, reading and writing
files safely, size limits, locks, git plumbing and the list of a repository's record
files. Nothing here knows what a record means.

May import: nothing of promoctl (the standard library and third-party packages only).
"""
