"""BL's answers as the API's errors (the port to BL is :class:`service.exporter.BLDirectory`; its adapter is
:class:`exporters.bl.directory.BLExporterDirectory`)."""

from __future__ import annotations

from backoffice.errors import ApiError
from service.exporter import ExportError, MerchantActionRequired, OperatorError, TransientExportError
from service.reasons import ReasonCode

_KEY_MESSAGES = {
    ReasonCode.KEY_NOT_ACTIVATED: "The key is valid but the Open 2 integration is not activated in Björn Lundén: "
    "press Aktivera under Tilläggstjänster in BL, then try again.",
    ReasonCode.KEY_UNKNOWN: "Björn Lundén does not recognise this key: copy the public key again from the "
    "integration's gear icon in BL.",
}


def api_error(exc: ExportError) -> ApiError:
    """BL's answer as the API's: merchant-fixable → 422 with the reason code, BL down → 503, ours → 502."""
    if isinstance(exc, TransientExportError):
        retry = str(int(exc.retry_after_s or 30))
        return ApiError(
            503,
            "BL_UNAVAILABLE",
            "Björn Lundén is not answering right now; try again shortly.",
            headers={"Retry-After": retry},
        )
    if isinstance(exc, OperatorError):
        return ApiError(
            502, "BL_CONFIGURATION", "Björn Lundén refused our integration's credentials; we have been alerted."
        )
    if isinstance(exc, MerchantActionRequired):
        message = _KEY_MESSAGES.get(exc.reason_code, exc.message)
        return ApiError(422, str(exc.reason_code), message, field_errors=[], details={})
    return ApiError(502, "BL_REJECTED", "Björn Lundén could not answer our request; we have been alerted.")
