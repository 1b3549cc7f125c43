"""The benchmark's own parts: the peer is idempotent on the same key as dayclose, progress lines survive
a pipe, and the capacity model's arithmetic."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

import schemas
from bench import capacity, peer
from bench.progress import Progress
from consumer.codec import AvroCodec
from consumer.records import sales_envelope
from devstack import sampledata
from service.messages import DayClosed
from storage.codecs import item_row_json

DAY = date(2026, 11, 25)


def test_the_peer_keys_every_kind_of_event_as_dayclose_does_and_stores_its_row_shape() -> None:
    codec = AvroCodec(schemas.SALES_EVENT, "t")
    day = sampledata.store_day("org-1", "s1", DAY, 5, with_extras=True)
    records = [*day.events(), day.day_closed()]
    kinds = set()
    for record in records:
        decoded = codec.decode(codec.encode(record))  # as both read it off the wire
        ours = sales_envelope(decoded)
        org, key, store, business_date, kind, payload, register = peer.row(decoded)
        assert (org, key, store, business_date, kind, register) == (
            ours.organization_id,
            ours.event_key,
            ours.store_id,
            ours.business_date,
            ours.kind,
            ours.register_id,
        )
        if not isinstance(ours.item, DayClosed):  # the lean peer's payload is the value dayclose stores (issue #27)
            assert json.loads(payload) == json.loads(item_row_json(ours.item))
        kinds.add(kind)
    assert kinds == {"receipt", "cash_movement", "gift_card_expired", "day_closed"}


def test_a_progress_line_in_a_pipe_is_plain_text_once_at_the_end() -> None:
    out = io.StringIO()  # not a TTY
    with Progress("ingest", 1000, "ev", stream=out) as bar:
        for done in range(0, 1001, 100):
            bar.update(done)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert "1,000/1,000 ev" in lines[0] and "100%" in lines[0]


def test_a_disabled_progress_writes_nothing() -> None:
    out = io.StringIO()
    with Progress("quiet", 10, stream=out, enabled=False) as bar:
        bar.update(10)
    assert out.getvalue() == ""


MEASURED = {
    "bytes_per_row": 1000.0,
    "wal_bytes_per_event": 2000.0,
    "events_per_s_per_process": 1000.0,
    "decode_us": 20.0,
    "typed_us": 15.0,
    "db_write_us": 40.0,
    "requests_per_export": 2.5,
    "exports_per_s_per_pod": 10.0,
    "store_day_bytes": 5000.0,
}


def test_the_capacity_model_from_given_inputs() -> None:
    rows = dict(capacity.model(MEASURED))
    assert rows["sales events per day"] == ["300,000", "3,000,000", "30,000,000"]
    # 100k stores: 30 M events, 15 % in one hour = 1,250/s; a pod may use 500/s of its 1,000/s -> 3 pods.
    assert rows["events/s at peak (busiest hour)"][2] == "1,250"
    assert rows["consumer pods at peak (one process each; add one for availability)"] == ["1", "1", "3"]
    assert rows["sales-topic partitions (≥ 2 × consumer processes, ≥ 16)"] == ["16", "16", "16"]
    # 1k stores: 300,000 rows × 1,000 B + 1,000 store-days × 5,000 B = 0.305 GB a day.
    assert rows["stored per day (rows incl. indexes + store-day rows)"][0] == "0.30 GB"
    # Quarters are dropped whole: a row lives up to 400 + 92 days; 0.305 GB × 492 = 150 GB; 6 live quarters of
    # 300,000 × 91.3 days = 27 M rows.
    assert rows["stored at most, retention + one quarter (492 days: a quarter is dropped whole)"][0] == "150 GB"
    assert rows["PostgreSQL partitions of `sales` by quarter of the business date: live / rows each"][0] == (
        "6 / 27 M rows"
    )
    # 10k stores × 2.5 requests at 10/s = 2,500 s, whatever the pods.
    per_client = "if BL limits our client id (10 req/s in total): booking a midnight takes, with any number of pods"
    assert rows[per_client][1] == "41.7 min"
    # Each company held to 10/s, pods in parallel: 100k stores at 10 exports/s per pod = 10,000 s with one pod, and
    # ceil(100,000 / (10 × 1,800)) = 6 pods for 30 minutes.
    per_company = [k for k in rows if k.startswith("if BL limits each company")]
    assert [rows[k][2] for k in per_company] == ["2.8 h"] and rows["… pods to book it in 30 min"] == ["1", "1", "6"]
    # ... but one company's 1,000 stores × 2 requests at its 10/s take 200 s, however many pods book them.
    largest = "… the largest merchant (1,000 stores, one company) books in, whatever the pods"
    assert rows[largest] == ["3.3 min", "3.3 min", "3.3 min"]


def test_the_capacity_model_replays_a_day_faster_with_two_processes_a_pod_by_the_measured_ratio() -> None:
    rows = dict(capacity.model({**MEASURED, "two_processes_ratio": 1.25}))
    # 100k stores: 30 M events at 3 pods × 1,000/s = 10,000 s; at 1.25 × that, 8,000 s.
    assert rows["replay a whole day with those pods"][2] == "2.8 h"
    two = "… with DAYCLOSE_CONSUMER_PROCESSES=2 in each (2 cores a pod; measured 1.25 × one process)"
    assert rows[two][2] == "2.2 h"
    assert not any("CONSUMER_PROCESSES" in k for k in dict(capacity.model(MEASURED)))  # not measured: no row


def test_the_capacity_model_names_the_measurements_a_partial_run_lacks() -> None:
    with pytest.raises(capacity.MissingInputs, match="midnight"):
        capacity.inputs(
            {
                "figures": [
                    {"name": "ingest: dayclose run, stored", "detail": {"bytes_per_row": 1}},
                    {"name": "cost: Avro decode", "detail": {"us_per_event": {}}},
                ]
            }
        )


def test_the_capacity_model_takes_the_steady_state_midnight_and_shows_the_first_one_beside_it() -> None:
    def figure(name: str, **detail: object) -> dict[str, object]:
        return {"name": name, "detail": detail}

    night = {"exports_per_s": 40.0, "store_day_bytes": 4000.0}
    doc = {
        "figures": [
            figure("ingest: dayclose run, stored", bytes_per_row=700, wal_bytes_per_event=900, ingest_rate=9000),
            figure("cost: Avro decode", us_per_event={"decode": 20, "typed": 15, "db_write": 40}),
            figure("midnight, 10,000 stores, first night: rate", night="cold", requests_per_export=2.5, **night),
            figure("midnight, 10,000 stores, steady state: rate", night="steady", requests_per_export=2.0, **night),
        ]
    }
    measured = capacity.inputs(doc)
    assert (measured["requests_per_export"], measured["requests_per_export_first_night"]) == (2.0, 2.5)
    rows = dict(capacity.model(measured))
    assert rows["BL requests at midnight (2.00 per booked day)"] == ["2,000", "20,000", "200,000"]
    assert rows["… at a first-ever midnight, nothing known of any company (2.50 per booked day)"][1] == "25,000"
    assert rows["… a first-ever midnight"][1] == "41.7 min"  # 25,000 requests at 10/s


def test_the_capacity_model_takes_the_store_day_bytes_from_whichever_midnight_figure_measured_them() -> None:
    """The full run measures the stored bytes after its last night (one process), not on the pod's steady night."""

    def figure(name: str, **detail: object) -> dict[str, object]:
        return {"name": name, "detail": detail}

    doc = {
        "figures": [
            figure("ingest: dayclose run, stored", bytes_per_row=700, wal_bytes_per_event=900, ingest_rate=9000),
            figure("cost: Avro decode", us_per_event={"decode": 20, "typed": 15, "db_write": 40}),
            figure("midnight, first night: rate", night="cold", requests_per_export=2.5, exports_per_s=40.0),
            figure("midnight, steady state: rate", night="steady", requests_per_export=2.0, exports_per_s=40.0),
            figure("midnight, steady state, 1 process: rate", requests_per_export=2.0, store_day_bytes=3683.7),
        ]
    }
    assert capacity.inputs(doc)["store_day_bytes"] == 3683.7
