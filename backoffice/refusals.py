"""The service's refusals as the API answers them (:mod:`service.refusals`): the input breaks a rule → 422, the
integration's state does not allow the step → 409 (``NOT_READY`` lists what blocks in ``details.blocking``); the
offending fields in ``field_errors`` either way. BL's failures are :func:`backoffice.bl.api_error`."""

from __future__ import annotations

from collections.abc import Iterable

from backoffice.errors import ApiError, FieldError, conflict
from backoffice.models_integration import Blocker
from service.refusals import FieldProblem, InputRefused, LifecycleRefused


def field_errors(problems: Iterable[FieldProblem]) -> list[FieldError]:
    return [FieldError(field=p.field, code=p.code, message=p.message) for p in problems]


def blocker(found: object) -> Blocker:
    return Blocker.model_validate(found, from_attributes=True)


def invalid(exc: InputRefused) -> ApiError:
    """The API's 422 for input that breaks a rule."""
    return ApiError(422, exc.code, exc.message, field_errors=field_errors(exc.problems))


def refused(exc: LifecycleRefused) -> ApiError:
    """The API's 409 for a step the state machine refuses."""
    details = {"blocking": [blocker(b).model_dump() for b in exc.blocking]} if exc.blocking else None
    return conflict(exc.code, exc.message, details=details, field_errors=field_errors(exc.problems))
