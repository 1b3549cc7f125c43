"""Sign-in, the integration card, and the activation dialog step by step as the merchant guide has it: the
introduction (*Låt oss börja*), the public key verified (*Nästa*), the start date, the account plan in four steps
(*Betalningsmetoder*, *Moms-satser*, *Varugrupper*, *Övriga händelser*), *Integrationen är aktiverad*. The same
plan steps serve *Inställningar* later, highlighting what is new."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from backoffice.card import plan_form
from backoffice.card.pages import (
    CardError,
    CardRoute,
    Page,
    Posted,
    card_root,
    card_state,
    form_fields,
    posted,
    signed_in,
)
from backoffice.card.session import COOKIE, LIFETIME_S
from backoffice.errors import ApiError

router = APIRouter(prefix="/card", include_in_schema=False, route_class=CardRoute)
Signed = Annotated[Page, Depends(signed_in)]
Form = Annotated[Posted, Depends(posted)]


def _sign_in(request: Request, token: str) -> Response:
    """A BackOffice token (the API's, verified by the API's verifier) becomes a session cookie, and the browser goes
    on to the card. Only from BackOffice's own site, typed or pasted: that is also what lets the SameSite=Strict
    cookie travel on the redirect (one set during a navigation another site began would not)."""
    ctx, sessions = card_state(request)
    if request.headers.get("sec-fetch-site") == "cross-site":
        # Login CSRF: another site must not sign this browser in to an organization of its choosing (its own,
        # where the merchant would then type their BL key). BackOffice serves the card from its own site.
        raise CardError(403, "signin_cross_site")
    try:
        org = ctx.verifier.organization(f"Bearer {token}")
    except ApiError:
        raise CardError(401, "signed_out") from None
    cookie, session = sessions.issue(org, _subject(token))
    response = Response(status_code=303, headers={"location": f"{card_root(request)}/{org}/"})
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=LIFETIME_S,
        path=card_root(request) + "/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return response


def _subject(token: str) -> str | None:
    """The BackOffice user of a token the verifier has just accepted (its optional ``sub``)."""
    try:
        value = json.loads(extract_compact(token.encode()).payload).get("sub")
    except (JoseError, ValueError, UnicodeError, AttributeError):
        return None
    return value[:100] if isinstance(value, str) and value.isprintable() else None


@router.get("/signin", response_class=HTMLResponse)
def signin_link(request: Request, token: Annotated[str, Query(max_length=4096)] = "") -> Response:
    """The sign-in link (the local stack prints one): ``/card/signin?token=<BackOffice JWT>``."""
    return _sign_in(request, token)


@router.post("/signin", response_class=HTMLResponse)
async def signin_form(request: Request) -> Response:
    """BackOffice may post the token instead (``token`` form field), keeping it out of URLs and history."""
    form = await form_fields(request)
    return _sign_in(request, form.get("token", "")[:4096])


@router.get("/{org}/", response_class=HTMLResponse)
def card(page: Signed) -> Response:
    integration = page.api.integration()
    last = page.api.exports(status="booked", limit=1).items if integration.status != "setup" else []
    return page.render(
        "card.html",
        integration=integration,
        last=last[0] if last else None,
        failing=page.status.failed_exports > 0,
        plan_incomplete=any(b.code == "PLAN_INCOMPLETE" for b in integration.blocking),
    )


@router.get("/{org}/activate", response_class=HTMLResponse)
def intro(page: Signed) -> Response:
    return page.render("intro.html", step=0)


@router.get("/{org}/activate/key", response_class=HTMLResponse)
def key(page: Signed) -> Response:
    return page.render("key.html", integration=page.api.integration(), step=1, verified=False)


@router.post("/{org}/activate/key", response_class=HTMLResponse)
def verify_key(post: Form) -> Response:
    page = post.page
    entered = post.form.get("public_key", "").strip()
    try:
        integration = page.api.put_key(entered)
    except ApiError as error:
        code = error.body.code if error.body.code != "INVALID_REQUEST" else "KEY_MALFORMED"
        return page.render(
            "key.html", 422, integration=page.api.integration(), step=1, verified=False, error=code, entered=entered
        )
    return page.render("key.html", integration=integration, step=1, verified=True)


@router.get("/{org}/activate/start-date", response_class=HTMLResponse)
def start_date(page: Signed) -> Response:
    integration = page.api.integration()
    if integration.key is None:
        return page.redirect("/activate/key")
    return page.render("start_date.html", integration=integration, step=2, value=integration.start_date)


@router.post("/{org}/activate/start-date", response_class=HTMLResponse)
def save_start_date(post: Form) -> Response:
    page = post.page
    value = post.form.get("start_date", "")
    try:
        saved = page.api.put_start_date(value)
    except ApiError as error:
        field = error.body.field_errors[0].code if error.body.field_errors else error.body.code
        return page.render("start_date.html", 422, integration=page.api.integration(), step=2, value=value, error=field)
    if saved.warnings:
        return page.render(
            "start_date.html", integration=page.api.integration(), step=2, value=value, warnings=saved.warnings
        )
    return page.redirect("/activate/payment-methods")


def _step(step: str) -> str:
    if step not in plan_form.STEPS:
        raise CardError(404, "not_found")
    return step


def _plan_page(
    page: Page,
    mode: str,
    step: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    posted: dict[str, str] | None = None,
    **values: object,
) -> Response:
    """The step's form; after a refused save, with what the merchant entered next to the API's errors."""
    plan = page.api.plan()
    chart = page.api.accounts().items
    sections = plan_form.rows(step, plan, page.api.registered_items(), page.t, page.lang)
    names = {a.number: a.name for a in chart}
    for section in sections:
        for row in section.rows:
            if posted is not None and row.name in posted:
                row.value = posted[row.name].strip()
            row.account_name = names.get(row.value) if row.value else None
            row.error = (errors or {}).get(row.name)
    shown = {row.name for section in sections for row in section.rows}
    others = {f: m for f, m in (errors or {}).items() if f not in shown}
    return page.render(
        "plan_step.html",
        status,
        mode=mode,
        step=step,
        steps=plan_form.STEPS,
        position=plan_form.STEPS.index(step),
        sections=sections,
        accounts=[a for a in chart if not a.closed],
        other_errors=others,
        **values,
    )


@router.get("/{org}/activate/done", response_class=HTMLResponse)
def activated(page: Signed, queued: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Response:
    return page.render("activated.html", queued=queued, integration=page.api.integration())


@router.get("/{org}/activate/{step}", response_class=HTMLResponse)
def activation_step(page: Signed, step: str) -> Response:
    return _plan_page(page, "activate", _step(step))


@router.post("/{org}/activate/{step}", response_class=HTMLResponse)
def save_activation_step(post: Form, step: str) -> Response:
    return _save_step(post, "activate", _step(step))


@router.get("/{org}/settings/{step}", response_class=HTMLResponse)
def settings_step(page: Signed, step: str) -> Response:
    """*Inställningar*: the same steps, what is new (seen in sales or registered, without an account) marked."""
    return _plan_page(page, "settings", _step(step))


@router.post("/{org}/settings/{step}", response_class=HTMLResponse)
def save_settings_step(post: Form, step: str) -> Response:
    return _save_step(post, "settings", _step(step))


def _save_step(post: Posted, mode: str, step: str) -> Response:
    page = post.page
    t = page.t
    try:
        saved = page.api.put_plan(plan_form.merged(step, page.api.plan(), post.form))
    except ApiError as error:
        errors = {e.field: _field_message(page.lang, e.code, e.message) for e in error.body.field_errors}
        return _plan_page(page, mode, step, 422, errors or {"": error.body.message}, posted=post.form)
    missing = plan_form.step_missing(step, saved.plan)
    if missing:
        return _plan_page(page, mode, step, 422, dict.fromkeys(missing, t("account_missing")), posted=post.form)
    if mode == "settings":
        return page.redirect("/", done="saved")
    position = plan_form.STEPS.index(step)
    if position + 1 < len(plan_form.STEPS):
        return page.redirect(f"/activate/{plan_form.STEPS[position + 1]}")
    try:
        change = page.api.activate()
    except ApiError as error:
        blocking = error.body.details.get("blocking") or [
            {"code": e.code, "message": f"{e.field}: {e.message}"} for e in error.body.field_errors
        ]
        return _plan_page(page, mode, step, 409, not_ready=blocking or [{"code": "", "message": error.body.message}])
    return page.redirect(f"/activate/done?queued={change.exports_queued}")


def _field_message(lang: str, code: str, message: str) -> str:
    """Swedish from the reason registry where the code is one of its reasons (ACCOUNT_CLOSED…); BL's and the
    plan's own details are the API's English message."""
    from service.reasons import REASONS, ReasonCode

    if lang == "sv" and code in ReasonCode.__members__:
        return f"{REASONS[ReasonCode(code)].title_sv} ({message})"
    return message
