"""Data sources. Nothing in this package imports Textual (tests/unit/test_import_hygiene.py)."""
