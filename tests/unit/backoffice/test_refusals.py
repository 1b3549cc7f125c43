"""The service's refusals and BL's failures as the API answers them (backoffice/refusals.py): the input → 422 with its
fields, the state → 409 (what blocks in details, BL's refused fields in field_errors), BL's merchant-fixable answer
→ 422 on the field named, BL down → 503."""

from __future__ import annotations

import pytest

from backoffice.errors import ApiError
from backoffice.refusals import answered
from service.exporter import ExportError, MerchantActionRequired, TransientExportError
from service.reasons import ReasonCode
from service.refusals import Blocker, FieldProblem, InputRefused, LifecycleRefused


def answer(exc: Exception, bl_field: str | None = None) -> tuple[int, dict[str, object]]:
    with pytest.raises(ApiError) as raised, answered(bl_field):
        raise exc
    return raised.value.status, raised.value.body.model_dump()


def test_input_that_breaks_a_rule_is_a_422_on_its_fields() -> None:
    problem = FieldProblem("start_date", "START_DATE_TOO_OLD", "must be 2026-09-01 or later")
    status, body = answer(InputRefused("START_DATE_TOO_OLD", "too old", (problem,)))
    assert status == 422 and body["code"] == "START_DATE_TOO_OLD" and body["details"] == {}
    assert body["field_errors"] == [
        {"field": "start_date", "code": "START_DATE_TOO_OLD", "message": "must be 2026-09-01 or later"}
    ]


def test_a_state_refusal_is_a_409_listing_what_blocks_or_which_fields_bl_refuses() -> None:
    status, body = answer(LifecycleRefused("NOT_READY", "not yet", (Blocker("PLAN_MISSING", "map it"),)))
    assert status == 409 and body["details"] == {"blocking": [{"code": "PLAN_MISSING", "message": "map it"}]}
    closed = FieldProblem("events.TIPS", "ACCOUNT_CLOSED", "closed")
    status, body = answer(LifecycleRefused("NOT_READY", "accounts", problems=(closed,)))
    assert status == 409 and body["details"] == {} and [e["field"] for e in body["field_errors"]] == ["events.TIPS"]
    assert answer(LifecycleRefused("ALREADY_ACTIVE", "already"))[1]["field_errors"] == []


def test_bls_answer_about_a_key_is_put_on_the_field_only_when_asked() -> None:
    unknown = MerchantActionRequired(ReasonCode.KEY_UNKNOWN, "unknown")
    status, body = answer(unknown, bl_field="public_key")
    assert status == 422 and [(e["field"], e["code"]) for e in body["field_errors"]] == [("public_key", "KEY_UNKNOWN")]
    assert answer(unknown)[1]["field_errors"] == []
    down: ExportError = TransientExportError("down")
    assert answer(down, bl_field="public_key") == (503, answer(down)[1])
