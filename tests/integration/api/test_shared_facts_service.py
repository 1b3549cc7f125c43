"""The pre-flight's facts as `dayclose run` is wired (dayclose/bootstrap.py: kept in PostgreSQL): a restarted service
books the next day asking BL for nothing but the post and the attach, and a plan saved through the API makes the
next export ask BL again, whichever process runs it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from devstack import sampledata
from devstack.bl_standin import BLStandIn
from devstack.harness import Harness
from devstack.sampledata import SAMPLE_PLAN
from tests.integration.api.conftest import FAST_POLICY, Api, days_ago, set_up_active

pytestmark = pytest.mark.integration
ORG = "org-kept-facts"
BASE = "/bla-api/v1/sp"


def asked(standin: BLStandIn) -> Counter[str]:
    return Counter(
        f"{r.method} {re.sub(r'/[0-9][0-9-]*(?=/|$)', '/…', r.path.removeprefix(BASE))}"
        for r in standin.requests.all()
        if r.path.startswith(BASE)
    )


@pytest.fixture
def services(api: Api) -> Iterator[list[Harness]]:
    started: list[Harness] = []
    yield started
    for h in started:
        h.close()


def run_service(api: Api, started: list[Harness]) -> Harness:
    """``dayclose run`` as production wires it: no exporter given, so bootstrap builds the BL exporter with the
    PostgreSQL store. (A short session timeout: the mock cluster hands a restarted member its partitions only
    after the old session times out.)"""
    kafka = replace(api.settings.kafka, session_timeout_ms=6_000, heartbeat_interval_ms=500)
    h = Harness(replace(api.settings, kafka=kafka), api.topics, policy=FAST_POLICY).start()
    started.append(h)
    return h


def book(h: Harness, store: str, day: date) -> None:
    sd = sampledata.store_day(ORG, store, day, 5, with_extras=False)
    h.publish_sales([*sd.events(), sd.day_closed()])
    h.wait_for(
        lambda x: any(o["business_date"] == day and o["store_id"] == store for o in x.outcomes_for(ORG, "SUCCEEDED")),
        what=f"{store} {day} booked",
    )


def test_a_restarted_service_asks_bl_for_no_facts_it_learnt_before(
    api: Api, bl_standin: BLStandIn, services: list[Harness]
) -> None:
    set_up_active(api, bl_standin, ORG, org_number="5560000019")
    first = run_service(api, services)
    book(first, "s1", days_ago(2))
    first.stop()  # a deploy: the process and its memory are gone
    bl_standin.requests.clear()

    book(run_service(api, services), "s1", days_ago(1))

    assert asked(bl_standin) == {"POST /journal": 1, "POST /document/attachto/JOURNAL/…": 1}


def test_a_plan_saved_through_the_api_makes_the_next_export_ask_bl_again(
    api: Api, bl_standin: BLStandIn, services: list[Harness]
) -> None:
    merchant, _ = set_up_active(api, bl_standin, ORG, org_number="5560000019")
    service = run_service(api, services)
    book(service, "s1", days_ago(2))
    bl_standin.requests.clear()
    book(service, "s2", days_ago(2))
    assert "GET /account" not in asked(bl_standin)  # kept

    saved = merchant.put("/account-plan", SAMPLE_PLAN)  # the merchant may have changed the chart to go with it
    assert saved.status_code == 200, saved.text
    bl_standin.requests.clear()
    book(service, "s1", days_ago(1))

    assert {k: v for k, v in asked(bl_standin).items() if k.startswith("GET")} == {
        "GET /financialyear": 1,
        "GET /account": 1,
    }
