"""Save an account plan (the wizard's step 3, ``PUT …/account-plan``): the plan stored, what the pre-flight kept of
the company forgotten (the merchant may have changed their chart to go with the plan) and the failed exports it
cures retried (:func:`service.commands.retry_plan_fixes`), in one transaction: a saved fix always comes with its
retry, no dual write.

The API's save is :class:`CheckAndSavePlan` (:func:`check_and_save_plan`, reached through
:func:`service.bus.handle_asking`): the plan's own rules, a verified key (the chart is needed), and the company's chart
in BL (:mod:`service.plan_acceptance`), BL asked with no transaction open, then :class:`SavePlan` in a unit of work it
commits. :class:`SavePlan` alone (:func:`service.bus.handle`, the caller commits) takes a plan checked already.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from mapping.plan import AccountPlan
from service import commands
from service.commands import CommandWork, RetryPlanFixes
from service.integration_lifecycle import KeptFacts
from service.model import Integration
from service.plan_acceptance import chart_problems, own_problems
from service.ports.bl import ChartReader
from service.refusals import InputRefused, LifecycleRefused


@dataclass(frozen=True)
class SavePlan:
    #: Checked already: its own rules and the company's chart in BL.
    plan: AccountPlan


@dataclass(frozen=True)
class CheckAndSavePlan:
    #: As the merchant sent it, not checked yet.
    plan: AccountPlan


@dataclass(frozen=True)
class PlanStored:
    #: Stores whose failed exports the plan cures, queued for retry (none while not active).
    retries: int


class PlanIntegrations(Protocol):
    def get(self, org: str, *, lock: bool = False) -> Integration | None: ...

    def save_plan(self, plan: AccountPlan) -> None:
        """Store ``plan`` as the organization's next version (clears the migration's review list)."""
        ...


class PlanWork(CommandWork, Protocol):
    """What a plan save uses of the API's unit of work (its retries: the commands' ports)."""

    @property
    def integrations(self) -> PlanIntegrations: ...

    @property
    def kept_facts(self) -> KeptFacts: ...


def save_plan(uow: PlanWork, command: SavePlan) -> PlanStored:
    """The plan stored under the organization's lock (one save at a time), the kept BL facts forgotten, and the
    failed exports it cures retried."""
    org = command.plan.organization_id
    uow.integrations.get(org, lock=True)
    uow.integrations.save_plan(command.plan)
    uow.kept_facts.forget_organization(org)
    return PlanStored(commands.retry_plan_fixes(uow, RetryPlanFixes(command.plan)).jobs)


class PlanUnit(PlanWork, Protocol):
    """A unit of work with a plan save's ports, committed by the handler that opened it."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...


def check_and_save_plan(bl: ChartReader, units: Callable[[], PlanUnit], command: CheckAndSavePlan) -> PlanStored:
    """The plan saved (:func:`save_plan`) once every field passes its own rules and the company's chart in BL, asked
    with the verified key; refused as a whole otherwise, every offending field listed (``INVALID_PLAN``), or
    ``KEY_MISSING`` before a key is verified. An incomplete plan is accepted (activation waits for it)."""
    plan = command.plan
    problems = own_problems(plan)
    if problems:
        raise InputRefused("INVALID_PLAN", "The account plan has invalid fields.", tuple(problems))
    with units() as uow:
        integration = uow.integrations.get(plan.organization_id)
    if integration is None or integration.user_key is None:
        raise LifecycleRefused(
            "KEY_MISSING", "Verify the public key first: the plan is checked against the chart in BL."
        )
    problems = chart_problems(plan, bl.chart(integration.user_key.reveal()))
    if problems:
        raise InputRefused(
            "INVALID_PLAN", "Some accounts or cost centres do not exist or are closed in BL.", tuple(problems)
        )
    with units() as uow:
        stored = save_plan(uow, SavePlan(plan))
        uow.commit()
    return stored
