"""How a use case says no, for its adapters to answer in their own terms (the API: 422 or 409 with ``code`` and
per-field errors). Nothing was written when one of these is raised.

- :class:`InputRefused`: what was asked breaks a rule (a start date out of range, a malformed key, a plan field);
  asking again the same way gets the same answer.
- :class:`LifecycleRefused`: the integration's state (or its books' in BL) does not allow the step now (already active,
  not ready, no key yet, the original period locked); ``blocking`` says what keeps it from being activated, ``problems``
  which fields of the plan BL refuses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One field of the input that breaks a rule: ``field`` its dotted path (``product_groups.coffee.600``,
    ``start_date``), ``code`` a stable code (``INVALID_VALUE``, ``ACCOUNT_CLOSED`` …), ``message`` in English."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class Blocker:
    """What keeps an integration from being activated: ``code`` one of KEY_MISSING, COMPANY_ORG_NUMBER_INVALID,
    START_DATE_MISSING, PLAN_MISSING, PLAN_INVALID, PLAN_INCOMPLETE."""

    code: str
    message: str


class InputRefused(Exception):
    """The input breaks a rule (``code``: START_DATE_IN_FUTURE, START_DATE_TOO_OLD, KEY_MALFORMED, INVALID_PLAN),
    each offending field in ``problems``; nothing was written."""

    def __init__(self, code: str, message: str, problems: tuple[FieldProblem, ...] = ()) -> None:
        super().__init__(message)
        self.code, self.message, self.problems = code, message, problems


class LifecycleRefused(Exception):
    """The state machine refuses the step (``code``: ALREADY_ACTIVE, START_DATE_ON_FIRST_ACTIVATION, NOT_READY with
    its ``blocking`` or, when BL's chart refuses the plan's accounts, its ``problems``, NOT_DEACTIVATED_BY,
    NOT_ACTIVE, INTEGRATION_ACTIVE, KEY_COMPANY_CHANGED, KEY_MISSING, ORIGINAL_PERIOD_CLOSED); nothing was
    written."""

    def __init__(
        self,
        code: str,
        message: str,
        blocking: tuple[Blocker, ...] = (),
        problems: tuple[FieldProblem, ...] = (),
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.blocking, self.problems = code, message, blocking, problems
