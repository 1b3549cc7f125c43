"""Shared fixtures: real PostgreSQL, the Kafka mock cluster and the BL stand-in (see devstack/)."""

pytest_plugins = [
    "devstack.pytest_fixtures.postgres",
    "devstack.pytest_fixtures.kafka",
    "devstack.pytest_fixtures.bl",
]
