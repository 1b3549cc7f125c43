"""The service's refusals as the API answers them (:mod:`service.refusals`): the input breaks a rule → 422, the
integration's state does not allow the step → 409 (``NOT_READY`` lists what blocks in ``details.blocking``); the
offending fields in ``field_errors`` either way; BL's failures as :func:`backoffice.bl.api_error` says. A route runs
its command inside :func:`answered`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from backoffice.bl import api_error
from backoffice.errors import ApiError, FieldError, conflict
from backoffice.models_integration import Blocker
from service.exporter import ExportError
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


@contextmanager
def answered(bl_field: str | None = None) -> Iterator[None]:
    """The service's refusals and BL's failures raised inside, as the API's errors; with ``bl_field``, BL's
    merchant-fixable answer (422) is put on that field too (e.g. ``public_key``)."""
    try:
        yield
    except InputRefused as exc:
        raise invalid(exc) from None
    except LifecycleRefused as exc:
        raise refused(exc) from None
    except ExportError as exc:
        error = api_error(exc)
        if bl_field is not None and error.status == 422:
            error.body.field_errors = [FieldError(field=bl_field, code=error.body.code, message=error.body.message)]
        raise error from None
