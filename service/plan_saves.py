"""Save an account plan (the wizard's step 3, ``PUT …/account-plan``): the plan stored, what the pre-flight kept of
the company forgotten (the merchant may have changed their chart to go with the plan) and the failed exports it
cures retried (:func:`service.commands.retry_plan_fixes`), in one transaction: a saved fix always comes with its
retry, no dual write.

Reached through :mod:`service.bus` (:class:`SavePlan`) by the API once the plan passed its own rules and the
company's chart in BL (the route asks BL); the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mapping.plan import AccountPlan
from service import commands
from service.commands import CommandWork, RetryPlanFixes
from service.integration_lifecycle import KeptFacts
from service.model import Integration


@dataclass(frozen=True)
class SavePlan:
    #: Checked already: its own rules and the company's chart in BL.
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
