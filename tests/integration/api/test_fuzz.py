"""Property-based fuzzing of every operation in the committed OpenAPI document (schemathesis), against the
app on real PostgreSQL, the BL stand-in and the mock cluster: no 5xx, and every response matches the
document (status code, content type, body schema). Bounded to FUZZ_EXAMPLES per operation for CI."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backoffice.openapi_doc import PATH
from devstack.bl_standin import BLStandIn
from tests.integration.api.conftest import Api, set_up_active
from tests.tokens import bearer

ORG = "org-fuzz"
FUZZ_EXAMPLES = int(os.environ.get("DAYCLOSE_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def app(api: Api, bl_standin: BLStandIn) -> Any:
    set_up_active(api, bl_standin, ORG)  # so the operations meet real state, not only empty answers
    return api.client.app


# The committed file, not the app's live document: what BackOffice builds its client from is what is tested.
# (schemathesis.pytest.from_fixture would be the natural loader, but it breaks on pytest 9.)
schema = schemathesis.openapi.from_path(str(PATH))


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_no_schema_violations(case: Any, app: Any) -> None:
    case.operation.schema.app = app
    if case.path_parameters and "organization_id" in case.path_parameters:
        case.path_parameters["organization_id"] = ORG  # a valid token can only ever be for one organization
    case.call_and_validate(headers=bearer(ORG), checks=CHECKS, app=app)
