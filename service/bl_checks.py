"""The set-up steps that ask BL before they write, and what BL's answer about a key means.

- :class:`VerifyKey` (the wizard's key step): the key as typed must be a GUID, BL must say whose books it opens, and
  only then is it stored (:func:`service.integration_lifecycle.store_verified_key`).
- :class:`CheckAndActivate` (the wizard's activation): a new start date in its window, and, before the state machine
  activates (:func:`service.integration_lifecycle.activate`), the stored key must still open the books and every
  account of the plan exist and be open in BL (:func:`service.plan_acceptance.chart_problems`).
- :func:`activated_in_bl`: BL's callbacks change nothing unless BL, asked with the stored key, answers definitely.

BL is asked outside any transaction: a handler here takes a factory of units of work (``units``) and the BL ports it
asks, reads in one unit of work, asks BL with none open, then writes in another, which it commits. Reached through
:func:`service.bus.handle_asking`. BL's failure is the port's :class:`~service.exporter.ExportError` (nothing
written); a refusal is :class:`~service.refusals.InputRefused` or :class:`~service.refusals.LifecycleRefused`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Protocol, Self

from service.exporter import ExportError, MerchantActionRequired
from service.integration_lifecycle import (
    Activate,
    Activated,
    KeyStored,
    LifecycleWork,
    StoreVerifiedKey,
    activate,
    store_verified_key,
)
from service.model import IntegrationStatus
from service.plan_acceptance import chart_problems
from service.ports.bl import CompanyBooks, KeyVerifier
from service.reasons import ReasonCode
from service.refusals import FieldProblem, InputRefused, LifecycleRefused
from service.secrets import Secret, canonical_key
from service.start_dates import StartDateWindow


class LifecycleUnit(LifecycleWork, Protocol):
    """A unit of work with the lifecycle's ports, committed by the handler that opened it."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True)
class VerifyKey:
    organization_id: str
    #: As the merchant typed it (any letter case, spaces around).
    public_key: str


@dataclass(frozen=True)
class CheckAndActivate:
    organization_id: str
    #: Today, and the start dates the integration takes.
    window: StartDateWindow
    #: A new start date, on a reactivation only.
    start_date: date | None = None


def verify_key(bl: KeyVerifier, units: Callable[[], LifecycleUnit], command: VerifyKey) -> KeyStored:
    """The key in its canonical form (:func:`service.secrets.canonical_key`: verified, stored and looked up in this
    one form), whose books BL says it opens, stored with that company (``KEY_MALFORMED`` when it is not a GUID)."""
    try:
        key = canonical_key(command.public_key)
    except ValueError:
        raise InputRefused(
            "KEY_MALFORMED",
            "A public key looks like 8-4-4-4-12 hexadecimal characters.",
            (FieldProblem("public_key", "KEY_MALFORMED", "not a GUID"),),
        ) from None
    company = bl.verify(key)
    with units() as uow:
        stored = store_verified_key(
            uow, StoreVerifiedKey(command.organization_id, Secret(key), company.name, company.org_number)
        )
        uow.commit()
    return stored


def check_and_activate(bl: CompanyBooks, units: Callable[[], LifecycleUnit], command: CheckAndActivate) -> Activated:
    """Activate (:func:`service.integration_lifecycle.activate`) once a new start date is in its window and, unless
    the integration is active already or has no key (the state machine says why not), BL still opens the books
    with the stored key and every account of the plan exists and is open there (``NOT_READY`` with the fields)."""
    org, start = command.organization_id, command.start_date
    if start is not None:
        command.window.check(start)
    with units() as uow:
        state = uow.integrations.get(org)
        plan = uow.integrations.plan(org)
    if state is not None and state.user_key is not None and state.status != IntegrationStatus.ACTIVE:
        key = state.user_key.reveal()
        bl.verify(key)
        problems = chart_problems(plan, bl.chart(key)) if plan else []
        if problems:
            raise LifecycleRefused(
                "NOT_READY",
                "Accounts in the plan do not exist or are closed in Björn Lundén.",
                problems=tuple(problems),
            )
    with units() as uow:
        activated = activate(uow, Activate(org, command.window.today, start))
        uow.commit()
    return activated


class Unconfirmed(Exception):
    """BL's answer says nothing definite about whether the merchant activated the integration: ``cause`` is BL's
    failure. ``answered``: BL answered about the key but not definitely (``KEY_UNKNOWN``: BL does not know the key
    we stored, a spurious 500 as often as not); otherwise BL is down or refused our own credentials."""

    def __init__(self, cause: ExportError) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.answered = isinstance(cause, MerchantActionRequired)


def activated_in_bl(bl: KeyVerifier, key: Secret) -> bool:
    """Whether the integration is activated in BL, asked with the key **we stored**: the company → yes; "not
    activated" (``KEY_NOT_ACTIVATED``, BL's 403 "out of allowed scope") → no; anything else → :class:`Unconfirmed`
    (none of it says the merchant changed anything)."""
    try:
        bl.verify(key.reveal())
    except MerchantActionRequired as exc:
        if exc.reason_code == ReasonCode.KEY_NOT_ACTIVATED:
            return False
        raise Unconfirmed(exc) from None
    except ExportError as exc:
        raise Unconfirmed(exc) from None
    return True
