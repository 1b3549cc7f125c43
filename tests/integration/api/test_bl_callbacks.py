"""BL's activation callbacks: deactivation in BL deactivates here and tells the merchant; checked with BL."""

from __future__ import annotations

import uuid

import schemas
from consumer.codec import AvroCodec
from devstack.bl_standin import BLStandIn
from tests.integration.api.conftest import Api, set_up_active

ORG = "org-callbacks"
ORGNR = "556677-8899"


def callback(api: Api, key: str, state: str, orgnr: str = ORGNR, method: str = "POST") -> tuple[int, str]:
    r = api.client.request(method, f"/v1/bl/activation/{key}/{state}/{orgnr}")
    body = r.json()
    return r.status_code, body.get("result") or body.get("code")


def test_off_and_on_from_bl(api: Api, bl_standin: BLStandIn) -> None:
    m, key = set_up_active(api, bl_standin, ORG, ORGNR.replace("-", ""))
    assert callback(api, str(uuid.uuid4()), "OFF") == (404, "NOT_FOUND")
    assert callback(api, key, "OFF", orgnr="5560000000") == (404, "NOT_FOUND")
    assert callback(api, key, "OFF") == (409, "BL_STATE_DIFFERS")  # BL says it is still activated
    assert m.get().json()["status"] == "active"

    bl_standin.company(key).activated = False
    assert callback(api, key, "OFF", method="GET") == (200, "deactivated")
    integration = m.get().json()
    assert (integration["status"], integration["deactivated_by"]) == ("inactive", "BL")
    assert m.get("/status").json()["banner"]["reason_code"] == "KEY_NOT_ACTIVATED"
    topic, value = api.sql("SELECT topic, value FROM outbox ORDER BY id DESC LIMIT 1")[0]
    event = AvroCodec(schemas.EXPORT_OUTCOME, topic).decode(bytes(value))
    assert (topic, event["organization_id"], event["failure"]["reason_code"]) == (
        api.settings.kafka.outcomes_topic, ORG, "KEY_NOT_ACTIVATED")
    assert callback(api, key, "OFF") == (200, "unchanged")

    assert callback(api, key, "ON") == (409, "BL_STATE_DIFFERS")
    bl_standin.company(key).activated = True
    assert callback(api, key, "ON") == (200, "reactivated")
    assert m.get().json()["status"] == "active"
    assert m.get("/status").json()["banner"] is None


def test_on_does_not_undo_the_merchants_own_deactivation(api: Api, bl_standin: BLStandIn) -> None:
    m, key = set_up_active(api, bl_standin, ORG, ORGNR.replace("-", ""))
    assert m.post("/deactivation").status_code == 200
    assert callback(api, key, "ON") == (200, "unchanged")
    assert m.get().json()["status"] == "inactive"
