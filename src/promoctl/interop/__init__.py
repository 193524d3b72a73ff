"""Import and export: Moodle and CASE frameworks, LMS CSV and xAPI evidence.

Nothing here imports the CLI; ``promoctl.cli.interop_commands`` calls these modules.
"""
