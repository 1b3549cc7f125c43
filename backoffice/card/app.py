"""Mounting the card on the API's FastAPI app (only when ``DAYCLOSE_CARD_ENABLED`` is on)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from backoffice.card import routes_manage, routes_wizard
from backoffice.card.pages import PREFIX, SecurityHeaders
from backoffice.card.session import Sessions
from backoffice.context import Context


def mount(app: FastAPI, ctx: Context, sessions: Sessions) -> None:
    """Serve the card from ``app``: its pages, its one stylesheet, and the security headers of every answer."""
    app.state.card = (ctx, sessions)
    app.include_router(routes_manage.router)
    app.include_router(routes_wizard.router)
    app.mount(PREFIX + "/static", StaticFiles(packages=[("backoffice.card", "static")]), name="card-static")
    app.add_middleware(SecurityHeaders)
