"""BL's activation callbacks: deactivation in BL deactivates here and tells the merchant; checked with BL."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

import schemas
from consumer.codec import AvroCodec
from dayclose.keys import KeyVault
from dayclose.logs import configure_logging
from dayclose.telemetry import api_registry
from devstack.bl_standin import BLStandIn
from devstack.sampledata import SAMPLE_PLAN
from service.model import IntegrationStatus
from service.secrets import Secret
from storage.integrations import PostgresIntegrations
from tests.integration.api.conftest import Api, days_ago, set_up_active

ORG = "org-callbacks"
ORGNR = "556677-8899"


def callback(api: Api, key: str, state: str, orgnr: str = ORGNR, method: str = "POST") -> tuple[int, str]:
    r = api.client.request(method, f"/v1/bl/activation/{key}/{state}/{orgnr}")
    body = r.json()
    return r.status_code, body.get("result") or body.get("code")


@pytest.fixture
def logs() -> Iterator[Callable[[], str]]:
    """What the process logs, as `dayclose api` writes it (logging configured as at its start-up), into a stream of
    this test's own: nothing an earlier test configured (or cleared) can hide a line from these tests or show them one
    of its own. The root logger's handlers and level are put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield stream.getvalue
    root.handlers[:] = handlers
    root.setLevel(level)


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
        api.settings.kafka.outcomes_topic,
        ORG,
        "KEY_NOT_ACTIVATED",
    )
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


def test_keys_stored_before_the_digest_existed_are_found(
    api: Api, bl_standin: BLStandIn, logs: Callable[[], str]
) -> None:
    """Integrations saved without a key digest (before migration 0004, or by the demo harness) still
    answer BL's callbacks; the key never reaches the logs."""
    company = bl_standin.register_company(name="Legacy AB", org_number="5569990004", activated=False)
    vault = KeyVault(api.settings.key_encryption_key)  # type: ignore[arg-type]
    with psycopg.connect(api.settings.database_url) as conn:
        PostgresIntegrations(conn, vault).save(
            "org-legacy",
            user_key=Secret(company.user_key),
            status=IntegrationStatus.ACTIVE,
            start_date=days_ago(1),
            company_name="Legacy AB",
            company_org_number="5569990004",
        )
    assert callback(api, company.user_key, "OFF", orgnr="556999-0004") == (200, "deactivated")
    logged = logs()
    assert "api.request" in logged and company.user_key not in logged


# --- hostile and careless callers (#13) ---------------------------------------------------------------------


def callbacks_counted(direction: str, result: str) -> float:
    counted = api_registry().get_sample_value("dayclose_bl_callbacks_total", {"direction": direction, "result": result})
    return counted or 0.0


def outcomes_in_outbox(api: Api) -> int:
    return int(api.sql("SELECT count(*) FROM outbox WHERE topic = %s", api.settings.kafka.outcomes_topic)[0][0])


def test_a_forged_off_with_the_key_in_upper_case_changes_nothing(api: Api, bl_standin: BLStandIn) -> None:
    """Finding 1: the look-up folded the case but BL was asked about the path's string, which it does not
    know (KEY_UNKNOWN), and that counted as "not activated". BL is now asked with the stored key."""
    m, key = set_up_active(api, bl_standin, ORG, ORGNR.replace("-", ""))
    assert bl_standin.company(key).activated
    for forged in (key.upper(), key.upper().replace("A", "a")):
        assert callback(api, forged, "OFF") == (409, "BL_STATE_DIFFERS")
    assert m.get().json()["status"] == "active"
    assert m.get("/status").json()["banner"] is None
    assert outcomes_in_outbox(api) == 0


def test_bl_not_knowing_the_stored_key_changes_nothing_and_is_counted_and_logged_without_the_key(
    api: Api, bl_standin: BLStandIn, logs: Callable[[], str]
) -> None:
    """Finding 1, second half: a spurious KEY_UNKNOWN (BL's unstable 500) is no proof of deactivation."""
    m, key = set_up_active(api, bl_standin, ORG, ORGNR.replace("-", ""))
    bl_standin.company(key).activated = False  # even when it is true, BL's 500 does not say so
    bl_standin.set_faults(errors_next=50, error_status=500, paths=("/details",))
    before = callbacks_counted("OFF", "unconfirmed"), callbacks_counted("ON", "unconfirmed")
    assert callback(api, key, "OFF") == (409, "BL_UNCONFIRMED")
    assert m.get().json()["status"] == "active"
    assert outcomes_in_outbox(api) == 0
    bl_standin.set_faults(errors_next=50, error_status=503, paths=("/details",))
    status, code = callback(api, key, "OFF")
    assert (status, code) == (503, "BL_UNAVAILABLE") and m.get().json()["status"] == "active"
    assert callbacks_counted("OFF", "unconfirmed") - before[0] == 2

    bl_standin.reset_faults()
    assert callback(api, key, "OFF") == (200, "deactivated")  # BL's definite answer does change it
    bl_standin.company(key).activated = True
    bl_standin.set_faults(errors_next=50, error_status=500, paths=("/details",))
    assert callback(api, key, "ON") == (409, "BL_UNCONFIRMED")
    assert m.get().json()["status"] == "inactive"
    assert callbacks_counted("ON", "unconfirmed") - before[1] == 1
    logged = logs()
    assert "bl_callback.unconfirmed" in logged
    assert key not in logged and key.upper() not in logged


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("", "-"),  # finding 3: no org number on our side matched "-"
        ("", "0"),
        ("-", "-"),
        ("5569990000", "556999-0000"),  # not a valid organization number (check digit) on either side
        ("556999000", "5569990000"),
    ],
)
def test_an_org_number_that_is_not_a_valid_swedish_one_never_matches(
    api: Api, bl_standin: BLStandIn, ours: str, theirs: str
) -> None:
    company = bl_standin.register_company(name="Utan Orgnr AB", org_number=ours, activated=False)
    vault = KeyVault(api.settings.key_encryption_key)  # type: ignore[arg-type]
    with psycopg.connect(api.settings.database_url) as conn:
        PostgresIntegrations(conn, vault).save(
            "org-no-number",
            user_key=Secret(company.user_key),
            status=IntegrationStatus.ACTIVE,
            start_date=days_ago(1),
            company_name="Utan Orgnr AB",
            company_org_number=ours,
        )
    assert callback(api, company.user_key, "OFF", orgnr=theirs) == (404, "NOT_FOUND")
    assert api.sql("SELECT status FROM integrations WHERE organization_id = 'org-no-number'") == [("active",)]


@pytest.mark.parametrize("theirs", ["5566778899", "556677-8899", "165566778899", "16556677-8899"])
def test_the_common_forms_of_a_valid_org_number_match(api: Api, bl_standin: BLStandIn, theirs: str) -> None:
    m, key = set_up_active(api, bl_standin, ORG, "556677-8899")
    bl_standin.company(key).activated = False
    assert callback(api, key, "OFF", orgnr=theirs) == (200, "deactivated")
    assert callback(api, key, "OFF", orgnr="5566778898") == (404, "NOT_FOUND")  # one digit off: check digit


def test_the_key_is_stored_and_compared_in_one_canonical_form(api: Api, bl_standin: BLStandIn) -> None:
    """The wizard takes the key in any letter case (a GUID's hex digits are case-insensitive) and stores the
    lower-case form BL verified; a callback naming it in any case finds it."""
    company = bl_standin.register_company(name="Versaler AB", org_number=ORGNR.replace("-", ""))
    m = api.merchant("org-case")
    r = m.put("/key", {"public_key": f"  {company.user_key.upper()} "})
    assert r.status_code == 200, r.text
    vault = KeyVault(api.settings.key_encryption_key)  # type: ignore[arg-type]
    (encrypted,) = api.sql("SELECT bl_key_encrypted FROM integrations WHERE organization_id = 'org-case'")[0]
    assert vault.decrypt(encrypted).reveal() == company.user_key
    assert m.put("/key", {"public_key": company.user_key.replace("-", "")}).json()["code"] == "KEY_MALFORMED"
    for r in (
        m.put("/start-date", {"start_date": str(days_ago(2))}),
        m.put("/account-plan", SAMPLE_PLAN),
        m.post("/activation"),
    ):
        assert r.status_code == 200, r.text
    company.activated = False
    assert callback(api, company.user_key.upper(), "OFF") == (200, "deactivated")
