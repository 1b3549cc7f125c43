"""``python -m bench.round_trip_cost`` (the CPU a round trip costs: docs/performance.md) runs against a real server and
reads what each way should: the backend's own CPU from ``/proc``, and the same five rows every way."""

from __future__ import annotations

import pytest

from bench.round_trip_cost import WAYS, measure

pytestmark = pytest.mark.integration


def test_each_way_of_making_the_look_ups_is_measured_for_the_client_and_the_server(empty_database_url: str) -> None:
    figures = measure(empty_database_url, units=200)
    assert [name for name, *_ in figures] == list(WAYS)
    for _name, wall, client, server in figures:
        assert wall > 0 and client > 0 and server >= 0
    # The backend's /proc counters were found and moved: ~0.15 s of its CPU in all, where a tick is 10 ms (one way
    # alone may stay under a tick; all three do not).
    assert sum(server for *_, server in figures) > 0
