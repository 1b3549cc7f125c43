"""Bodies of the look-ups BackOffice's card needs besides the wizard's own answers: the company's chart in BL (the
account *names* shown next to numbers) and the merchant's notifications (one per outcome event)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from backoffice.models import Detail


class ChartAccount(BaseModel):
    number: str
    name: str
    closed: bool = Field(description="Spärrat in BL: a plan may not use it.")
    vat_code: str = Field(description='BL\'s one-character VAT code ("" or "0": none).')
    vat_rate: int | None = Field(
        description="The VAT rate (basis points) the VAT code stands for, when it stands for one (sales accounts)."
    )


class ChartAccounts(BaseModel):
    items: list[ChartAccount]


class NotificationVoucher(BaseModel):
    series: str
    number: int


class Notification(BaseModel):
    """One outcome event as the merchant's notification; its texts come from the reason-code registry."""

    notification_id: int
    created_at: datetime
    status: Literal["SUCCEEDED", "FAILED", "WARNING"]
    severity: Literal["INFO", "WARNING", "ERROR"]
    trigger: str
    reason_code: str | None
    title_sv: str | None = Field(description="None for a success: the voucher says it all.")
    message_sv: str | None
    title_en: str | None
    message_en: str | None
    store_id: str | None
    business_date: date | None
    export_id: str | None
    voucher: NotificationVoucher | None
    details: list[Detail]


class Notifications(BaseModel):
    items: list[Notification] = Field(description="Newest first.")
