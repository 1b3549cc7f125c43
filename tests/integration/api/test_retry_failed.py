"""The retry button (`POST …/failed-exports/retry`): the RetryFailedExports handler through the bus, in the API's
own transaction: one RETRY job per store with a failed export, acted on once per retry id, and nothing (not even the
command's record) while the integration is not active."""

from __future__ import annotations

from devstack.bl_standin import BLStandIn
from tests.integration.api.conftest import Api, days_ago, set_up_active

ORG = "org-retry"


def retries(api: Api) -> list[tuple[str, str, str]]:
    return [
        (store, trigger, source)
        for store, trigger, source in api.sql(
            "SELECT store_id, trigger, source_id FROM export_jobs WHERE organization_id = %s ORDER BY id", ORG
        )
        if source.startswith("retry-")
    ]


def test_the_retry_button_queues_one_retry_per_store_with_a_failed_export_only_while_active(
    api: Api, bl_standin: BLStandIn
) -> None:
    m, _ = set_up_active(api, bl_standin, ORG)
    for n, (store, status) in enumerate([("s1", "failed"), ("s1", "failed"), ("s2", "posting"), ("s3", "booked")]):
        api.sql(
            """INSERT INTO exports (export_id, reference, organization_id, store_id, business_date, trigger, status,
                                   event_count)
               VALUES (gen_random_uuid(), %s, %s, %s, %s, 'DAY_CLOSE', %s, 1) RETURNING 1""",
            f"DC-{n}",
            ORG,
            store,
            days_ago(1 + n),
            status,
        )
    first = m.post("/failed-exports/retry")
    assert first.status_code == 200, first.text
    assert first.json() == {"retries_queued": 1}
    ((store, trigger, source),) = retries(api)
    assert (store, trigger) == ("s1", "RETRY")  # s2's posting export has its own job; s3 is booked
    command_id = source.removesuffix(":s1")
    assert api.sql("SELECT 1 FROM processed_commands WHERE organization_id = %s AND command_id = %s", ORG, command_id)

    # Each click is a request of its own.
    assert m.post("/failed-exports/retry").json() == {"retries_queued": 1}
    assert len(retries(api)) == 2

    commands = api.sql("SELECT count(*) FROM processed_commands WHERE organization_id = %s", ORG)
    assert m.post("/deactivation").status_code == 200
    refused = m.post("/failed-exports/retry")
    assert refused.status_code == 409 and refused.json()["code"] == "NOT_ACTIVE", refused.text
    assert len(retries(api)) == 2
    assert api.sql("SELECT count(*) FROM processed_commands WHERE organization_id = %s", ORG) == commands
