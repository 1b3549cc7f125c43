"""A local stand-in for the Björn Lundén API: faithful to its OpenAPI document, errors and faults.

    with BLStandIn() as bl:
        company = bl.register_company()
        bl.set_faults(throttle_next=3, retry_after_s=0)
        ...
        bl.vouchers(company.user_key)

Run standalone: ``python -m devstack.bl_standin --port 8089 --seed-demo-company``.
"""

from devstack.bl_standin.faults import Faults
from devstack.bl_standin.server import BASE_PATH, DEMO_USER_KEY, TOKEN_PATH, BLStandIn
from devstack.bl_standin.state import Company

__all__ = ["BASE_PATH", "DEMO_USER_KEY", "TOKEN_PATH", "BLStandIn", "Company", "Faults"]
