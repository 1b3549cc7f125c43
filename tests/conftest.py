"""Shared fixtures: real PostgreSQL, the Kafka mock cluster and the BL stand-in (see devstack/)."""

from hypothesis import HealthCheck, settings

pytest_plugins = [
    "devstack.pytest_fixtures.postgres",
    "devstack.pytest_fixtures.kafka",
    "devstack.pytest_fixtures.bl",
]

# Hypothesis' per-example deadline and its "generation is slow" health check time the machine, not the
# code: on a loaded 2-core CI runner they fail tests whose properties hold. Speed is measured by
# `make bench`; properties are checked here without a clock.
settings.register_profile("dayclose", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("dayclose")
