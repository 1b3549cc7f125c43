"""What the bodies share: strings bounded and free of control characters at the edge, so nothing odd reaches SQL,
BL or the logs. The bodies by concern: :mod:`backoffice.models_integration` (the wizard's key, start date and the
state machine), :mod:`backoffice.models_plan` (the account plan), :mod:`backoffice.models_exports` (exports, history,
status), :mod:`backoffice.models_audit` (corrections and the audit trail), :mod:`backoffice.models_vat`,
:mod:`backoffice.models_lookup`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE)]
Account = Annotated[str, StringConstraints(max_length=32, pattern=PRINTABLE)]
VatKey = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")]
Status = Literal["setup", "active", "inactive"]
ItemKind = Literal["payment_method", "vat_rate", "product_group", "event"]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Detail(BaseModel):
    kind: str
    code: str
    message: str | None = None
