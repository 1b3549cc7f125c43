"""The independent oracle lives in devstack/oracle.py (the demo and the chaos suite use it too)."""

from devstack.oracle import assert_balanced, booked_totals, expected_totals

__all__ = ["assert_balanced", "booked_totals", "expected_totals"]
