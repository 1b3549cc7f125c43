"""Bodies of the wizard's key and start date steps and of the integration's state machine."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from backoffice.models import PRINTABLE, Status, StrictIn


class KeyIn(StrictIn):
    public_key: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE)] = Field(
        description="The public key from BL (Tilläggstjänster → Open 2 → gear icon), a GUID."
    )


class Company(BaseModel):
    name: str
    org_number: str


class KeyInfo(BaseModel):
    masked: str = Field(description="The key with all but its first and last characters hidden.")
    verified_at: datetime | None


class Blocker(BaseModel):
    code: Literal[
        "KEY_MISSING",
        "COMPANY_ORG_NUMBER_INVALID",
        "START_DATE_MISSING",
        "PLAN_MISSING",
        "PLAN_INVALID",
        "PLAN_INCOMPLETE",
    ]
    message: str


class Integration(BaseModel):
    organization_id: str
    status: Status
    key: KeyInfo | None
    company: Company | None
    start_date: date | None
    plan_version: int | None
    activated_at: datetime | None
    deactivated_at: datetime | None
    deactivated_by: Literal["MERCHANT", "BL"] | None
    ready_to_activate: bool
    blocking: list[Blocker]


class StartDateIn(StrictIn):
    start_date: date


class Warning(BaseModel):  # noqa: A001 - a response field name, not the builtin
    code: str
    message: str
    details: dict[str, str] = Field(default_factory=dict)


class StartDateOut(BaseModel):
    start_date: date
    warnings: list[Warning]


class ActivationIn(StrictIn):
    start_date: date | None = Field(None, description="Reactivation only: export from this date instead.")


class StateChange(BaseModel):
    integration: Integration
    exports_queued: int = Field(description="Closed days not yet booked that were queued for export.")
