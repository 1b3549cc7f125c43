"""BL's activation callbacks: deactivation in BL deactivates here and tells the merchant; checked with BL."""

from __future__ import annotations

import uuid

import psycopg
import pytest

import schemas
from consumer.codec import AvroCodec
from dayclose.db.integrations import save_integration
from dayclose.keys import KeyVault
from dayclose.secrets import Secret
from devstack.bl_standin import BLStandIn
from tests.integration.api.conftest import Api, days_ago, set_up_active

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


def test_keys_stored_before_the_digest_existed_are_found(api: Api, bl_standin: BLStandIn,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Integrations saved without a key digest (before migration 0004, or by the demo harness) still
    answer BL's callbacks; the key never reaches the logs."""
    company = bl_standin.register_company(name="Legacy AB", org_number="5569990000", activated=False)
    vault = KeyVault(api.settings.key_encryption_key)  # type: ignore[arg-type]
    with psycopg.connect(api.settings.database_url) as conn:
        save_integration(conn, "org-legacy", vault, user_key=Secret(company.user_key), status="active",
                         start_date=days_ago(1), company_name="Legacy AB", company_org_number="5569990000")
    assert callback(api, company.user_key, "OFF", orgnr="556999-0000") == (200, "deactivated")
    out, err = capsys.readouterr()
    assert "api.request" in out + err and company.user_key not in out + err
