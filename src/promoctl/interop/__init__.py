"""Import and export: Moodle and CASE frameworks in and out, LMS evidence (CSV, xAPI,
cmi5, Totara) in, and the changes of levels and reviews out for HR systems.

May import: ``promoctl.base``, ``promoctl.records``, ``promoctl.engine``. Nothing here
imports the CLI; ``promoctl.cli.interop_commands`` calls these modules.
"""
