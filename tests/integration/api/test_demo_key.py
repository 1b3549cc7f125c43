"""The stand-in's demo company can be set up through the API, as a tester following docs/bl-standin.md would."""

from __future__ import annotations

from devstack.bl_standin import DEMO_USER_KEY, BLStandIn
from tests.integration.api.conftest import Api


def test_the_stand_in_s_demo_key_passes_the_api_s_key_check(api: Api, bl_standin: BLStandIn) -> None:
    company = bl_standin.seed_demo_company()
    assert company.user_key == DEMO_USER_KEY
    r = api.merchant("org-demo").put("/key", {"public_key": DEMO_USER_KEY})
    assert r.status_code == 200, r.text
    assert r.json()["company"]["name"] == company.name
