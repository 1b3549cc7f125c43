"""Measured prototypes for issue #16's redesign: SQL shapes tried on the benchmark's data before they are built.

Nothing in the product imports these; they print figures (``python -m bench.prototypes.ingest_sql``).
"""
