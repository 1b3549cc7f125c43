"""The card's three-dot menu after activation (*Manuell export* with *Bekräfta*, *Inaktivera* with its
confirmation), the banner's notification (*Visa*), the notifications list, the history with corrections and
day reports, and the language switch."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from backoffice.card.pages import CardError, CardRoute, Page, Posted, card_root, posted, render, signed_in
from backoffice.card.session import COOKIE, LANG_COOKIE
from backoffice.card.texts import LANGUAGES
from backoffice.errors import ApiError
from backoffice.plan_rules import PLAN_REASONS

router = APIRouter(prefix="/card", include_in_schema=False, route_class=CardRoute)
Signed = Annotated[Page, Depends(signed_in)]
Form = Annotated[Posted, Depends(posted)]


@router.get("/{org}/manual-export", response_class=HTMLResponse)
def manual_export(page: Signed) -> Response:
    return page.render(
        "confirm.html", action="manual-export", title="manual_title", text="manual_text", button="confirm"
    )


@router.post("/{org}/manual-export", response_class=HTMLResponse)
def request_manual_export(post: Form) -> Response:
    request = post.page.api.manual_export()
    return post.page.redirect(f"/manual-export/{request.request_id}")


@router.get("/{org}/manual-export/{request_id}", response_class=HTMLResponse)
def manual_export_result(page: Signed, request_id: uuid.UUID) -> Response:
    """The request's state; once done, the vouchers it booked (the API's exports of trigger MANUAL since the
    request)."""
    state = page.api.manual_export_state(request_id)
    booked = []
    if state.state == "done":
        booked = [
            e for e in page.api.exports(limit=50).items if e.trigger == "MANUAL" and e.created_at >= state.requested_at
        ]
    return page.render("manual_result.html", state=state, booked=booked)


@router.get("/{org}/deactivate", response_class=HTMLResponse)
def deactivate(page: Signed) -> Response:
    return page.render(
        "confirm.html", action="deactivate", title="deactivate_title", text="deactivate_text", button="deactivate"
    )


@router.post("/{org}/deactivate", response_class=HTMLResponse)
def confirm_deactivate(post: Form) -> Response:
    post.page.api.deactivate()
    return post.page.redirect("/", done="deactivated")


@router.get("/{org}/notifications", response_class=HTMLResponse)
def notifications(page: Signed) -> Response:
    return page.render("notifications.html", items=page.api.notifications().items)


@router.get("/{org}/notifications/current", response_class=HTMLResponse)
def current_problem(page: Signed) -> Response:
    """What the banner's *Visa* opens: what happened, what to do, which days."""
    banner = page.status.banner
    days = [d for d in page.api.missing_days().items if banner and d.reason_code == banner.reason_code]
    return page.render(
        "problem.html",
        problem=banner,
        days=days,
        failed=page.status.failed_exports,
        plan_problem=banner is not None and banner.reason_code in PLAN_REASONS,
    )


@router.post("/{org}/retry", response_class=HTMLResponse)
def retry(post: Form) -> Response:
    post.page.api.retry_failed()
    return post.page.redirect("/notifications/current", done="retried")


@router.get("/{org}/history", response_class=HTMLResponse)
def history(page: Signed) -> Response:
    exports = page.api.exports(limit=200).items
    by_id = {e.export_id: e for e in exports}
    corrected = {e.reverses for e in exports if e.reverses}
    return page.render(
        "history.html", exports=exports, by_id=by_id, corrected=corrected, missing=page.api.missing_days().items
    )


def _export(page: Page, export_id: uuid.UUID) -> object:
    found = [e for e in page.api.exports(limit=500).items if e.export_id == str(export_id)]
    if not found:
        raise CardError(404, "not_found")
    return found[0]


@router.get("/{org}/history/{export_id}/correct", response_class=HTMLResponse)
def correction(page: Signed, export_id: uuid.UUID) -> Response:
    return page.render("correct.html", export=_export(page, export_id), user=page.session.user or "")


@router.post("/{org}/history/{export_id}/correct", response_class=HTMLResponse)
def request_correction(post: Form, export_id: uuid.UUID) -> Response:
    page = post.page
    reason, user = post.form.get("reason", ""), post.form.get("acting_user", "") or (page.session.user or "")
    try:
        page.api.correct(export_id, reason, user)
    except ApiError as error:
        if error.status == 404:
            raise CardError(404, "not_found") from None
        errors = {e.field: e.message for e in error.body.field_errors} or {"": error.body.message}
        return page.render(
            "correct.html", 422, export=_export(page, export_id), user=user, reason=reason, errors=errors
        )
    return page.redirect("/history", done="correction")


@router.get("/{org}/history/{export_id}/day-report")
def day_report(page: Signed, export_id: uuid.UUID) -> Response:
    try:
        report = page.api.day_report(export_id)
    except ApiError as error:
        raise CardError(404, "not_found", error.body.message) from None
    report.headers["content-disposition"] = report.headers["content-disposition"].replace("inline", "attachment")
    return report


@router.post("/{org}/lang")
def switch_language(post: Form) -> Response:
    lang = post.form.get("lang", "sv")
    target = post.form.get("next", "")
    if not target.startswith(post.page.base + "/") or "//" in target.removeprefix(post.page.base):
        target = post.page.base + "/"  # only back to a page of this card: never an open redirect
    response = Response(status_code=303, headers={"location": target})
    response.set_cookie(
        LANG_COOKIE,
        lang if lang in LANGUAGES else "sv",
        max_age=365 * 24 * 3600,
        path=card_root(post.page.request) + "/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/{org}/signout")
def sign_out(post: Form) -> Response:
    response = render(post.page.request, "error.html", 200, message="signed_out_done", detail=None)
    response.delete_cookie(
        COOKIE, path=card_root(post.page.request) + "/", secure=True, httponly=True, samesite="strict"
    )
    return response
