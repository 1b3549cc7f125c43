"""The day report's sentence on why a correction has its date (BFN's comment to BFNAR 2013:2 p. 2.17–2.18: a
correction belongs to the period in which the error is found; the original period only while its work is not
finished, as the accountant states)."""

from __future__ import annotations

from datetime import date


def dating_note(dating: str, found_on: date | None, statement: str | None, in_original_period: bool) -> str:
    """``dating`` is :class:`mapping.periods.Dating`'s value ("" for corrections recorded before it was kept)."""
    found = found_on.isoformat() if found_on else "?"
    refused = (
        " Ursprungsperioden begärdes men Björn Lundén tar inte längre emot verifikationer där."
        if statement and dating != "ORIGINAL_DATE"
        else ""
    )
    if dating == "ORIGINAL_DATE":
        return f"Daterad i ursprungsperioden: arbetet med perioden är inte avslutat ({statement})."
    if dating == "FOUND_DATE":
        return f"Daterad {found}, den dag rättelsen gjordes: i den period felet upptäcktes.{refused}"
    if dating == "FIRST_OPEN_DATE":
        return (
            f"Felet upptäcktes {found}; den perioden är låst i Björn Lundén, så rättelsen är daterad den första "
            f"dag därefter som Björn Lundén tar emot.{refused}"
        )
    if not in_original_period:
        return (
            "Ursprungsperioden är låst eller räkenskapsåret stängt i Björn Lundén: rättelsen är daterad den "
            "första öppna dagen."
        )
    return "Daterad i ursprungsperioden."
