"""``/_admin/...``: drive the stand-in over HTTP (demo, benchmarks, manual poking with curl).

POST   /_admin/companies              {"user_key"?, "name"?, "org_number"?, "activated"?}
GET    /_admin/companies/{key}/vouchers
GET    /_admin/companies/{key}/documents   (what is attached to which voucher; sizes and sha256, no bytes)
POST   /_admin/companies/{key}        {"activated", "close_financial_year", "open_financial_year",
                                       "remove_financial_year", "lock_through", "close_accounts",
                                       "remove_accounts", "add_accounts", "remove_series", "add_series",
                                       "remove_cost_centres", "add_cost_centres"}
GET    /_admin/faults   POST /_admin/faults {knob: value...}   DELETE /_admin/faults
POST   /_admin/tokens/expire           POST /_admin/config {"token_ttl_s": 5}
GET    /_admin/stats    GET /_admin/requests    POST /_admin/reset
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from devstack.bl_standin.faults import Faults
from devstack.bl_standin.state import Company
from devstack.bl_standin.wire import Request, Response, json_response

if TYPE_CHECKING:
    from devstack.bl_standin.server import BLStandIn

_COMPANY = re.compile(r"^/_admin/companies/(?P<key>[^/]+)(?:(?P<vouchers>/vouchers)|(?P<documents>/documents))?$")


def handle(standin: BLStandIn, request: Request) -> Response:
    try:
        return _route(standin, request)
    except (ValueError, KeyError, TypeError) as exc:
        return json_response(400, {"error": f"{type(exc).__name__}: {exc}"})


def _route(standin: BLStandIn, request: Request) -> Response:  # noqa: PLR0911, PLR0912 - a flat routing table
    method, path = request.method, request.path
    body: dict[str, Any] = request.json() if request.body else {}
    if path == "/_admin/companies" and method == "POST":
        return json_response(201, _company_json(standin.register_company(**body)))
    if path == "/_admin/companies" and method == "GET":
        return json_response(200, [_company_json(c) for c in standin.registry.companies()])
    match = _COMPANY.match(path)
    if match:
        company = standin.registry.company(match["key"])
        if company is None:
            return json_response(404, {"error": "no such company"})
        if match["vouchers"]:
            return json_response(200, standin.vouchers(company.user_key))
        if match["documents"]:
            return json_response(
                200,
                [
                    {
                        "id": d["id"],
                        "name": d["name"],
                        "content_type": d["content_type"],
                        "size": len(d["content"]),
                        "sha256": hashlib.sha256(d["content"]).hexdigest(),
                        "vouchers": [{"series": s, "number": n, "financial_year": fy} for s, n, fy in d["vouchers"]],
                    }
                    for d in standin.documents(company.user_key)
                ],
            )
        if method == "POST":
            apply_changes(company, body)
        return json_response(200, _company_json(company))
    if path == "/_admin/faults":
        if method == "POST":
            standin.set_faults(Faults.from_json(body))
        elif method == "DELETE":
            standin.reset_faults()
        return json_response(200, {**standin.faults.to_json(), "remaining": standin.injector.remaining()})
    if path == "/_admin/tokens/expire" and method == "POST":
        return json_response(200, {"expired": standin.registry.expire_tokens()})
    if path == "/_admin/config" and method == "POST":
        if "token_ttl_s" in body:
            standin.registry.token_ttl_s = float(body["token_ttl_s"])
        return json_response(200, {"token_ttl_s": standin.registry.token_ttl_s})
    if path == "/_admin/stats":
        return json_response(200, standin.stats())
    if path == "/_admin/requests":
        return json_response(
            200,
            [
                {"at": r.at, "method": r.method, "path": r.path, "query": r.query, "status": r.status}
                for r in standin.requests.all()[-1000:]
            ],
        )
    if path == "/_admin/reset" and method == "POST":
        standin.reset_faults()
        standin.requests.clear()
        return json_response(200, {"reset": True})
    return json_response(404, {"error": f"no admin route {method} {path}"})


def apply_changes(company: Company, changes: dict[str, Any]) -> None:
    """Merchant-side changes in BL: the same knobs as :class:`Company`'s methods."""
    day_or_id = _day_or_id
    if "activated" in changes:
        company.activated = bool(changes["activated"])
    for key, action in (
        ("close_financial_year", company.close_financial_year),
        ("open_financial_year", company.open_financial_year),
        ("remove_financial_year", company.remove_financial_year),
    ):
        if key in changes:
            action(day_or_id(changes[key]))
    if "lock_through" in changes:
        company.lock_through(date.fromisoformat(changes["lock_through"]))
    for key, remove in (
        ("close_accounts", company.close_account),
        ("remove_accounts", company.remove_account),
        ("remove_series", company.remove_series),
        ("remove_cost_centres", company.remove_cost_centre),
    ):
        for item in changes.get(key, []):
            remove(str(item))
    for key, add in (
        ("add_accounts", company.add_account),
        ("add_series", company.add_series),
        ("add_cost_centres", company.add_cost_centre),
    ):
        for item, name in dict(changes.get(key, {})).items():
            add(str(item), str(name))


def _day_or_id(value: str) -> date | str:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return value


def _company_json(company: Company) -> dict[str, Any]:
    with company.lock:
        return {
            "user_key": company.user_key,
            "entity_id": company.entity_id,
            "name": company.name,
            "org_number": company.org_number,
            "activated": company.activated,
            "series": sorted(company.series),
            "vouchers": len(company.entries),
            "financial_years": [fy.to_json(company.entity_id, None) for fy in company.financial_years],
        }
