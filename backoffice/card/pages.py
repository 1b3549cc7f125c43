"""What every card page shares: who is signed in (and for which organization), the CSRF check of every form,
the language, the banner, the security headers, and rendering with Jinja2 (autoescaped)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backoffice.card.api import CardApi
from backoffice.card.session import COOKIE, LANG_COOKIE, Session, Sessions
from backoffice.card.texts import LANGUAGES, has_text, translator
from backoffice.context import Context
from backoffice.errors import ApiError
from backoffice.models import IDENTIFIER, Detail
from backoffice.models_exports import StatusOut
from service.reasons import reason

PREFIX = "/card"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: No script runs on a card page, none is loaded from anywhere; styles and images from us only; forms post back
#: to us only; only pages of our own origin may frame the card.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-frame-options": "SAMEORIGIN",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_env = Environment(loader=PackageLoader("backoffice.card", "templates"), autoescape=select_autoescape(default=True))


class CardError(Exception):
    """A page that cannot be shown: rendered as an error page with a text of :mod:`backoffice.card.texts`."""

    def __init__(self, status: int, text: str, detail: str | None = None) -> None:
        super().__init__(text)
        self.status, self.text, self.detail = status, text, detail


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "sv")
    return lang if lang in LANGUAGES else "sv"


def card_root(request: Request) -> str:
    return str(request.scope.get("root_path", "")) + PREFIX


def local_time(value: datetime | None) -> str:
    return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if value else ""


def kronor(ore: int | None) -> str:
    if ore is None:
        return ""
    sign, ore = ("−" if ore < 0 else ""), abs(ore)
    return f"{sign}{ore // 100:,}".replace(",", "\u00a0") + f",{ore % 100:02d}\u00a0kr"


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = values.pop("lang", None) or language(request)
    html = _env.get_template(template).render(
        lang=lang,
        t=translator(lang),
        static=card_root(request) + "/static",
        local_time=local_time,
        kronor=kronor,
        reason_title=lambda code: _reason_title(code, lang),
        describe=lambda d: _detail(d, lang),
        **values,
    )
    return HTMLResponse(html, status_code=status)


def _reason_title(code: str | None, lang: str) -> str:
    """A reason code's title from the one registry (the texts the API's banner and notifications carry)."""
    if not code:
        return ""
    found = reason(code)
    return found.title_en if lang == "en" else found.title_sv


def _detail(detail: Detail, lang: str) -> str:
    """One detail of a failure: its own words when it has them, else what it is and which."""
    if detail.message:
        return detail.message
    label = "detail_" + detail.kind
    return f"{translator(lang)(label)} {detail.code}" if has_text(label) else f"{detail.kind} {detail.code}".strip()


@dataclass
class Page:
    """A signed-in request for one organization's card pages."""

    request: Request
    session: Session
    sessions: Sessions
    api: CardApi
    lang: str
    _status: StatusOut | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"{card_root(self.request)}/{self.session.organization_id}"

    @property
    def t(self) -> Callable[..., str]:
        return translator(self.lang)

    @property
    def status(self) -> StatusOut:
        if self._status is None:
            self._status = self.api.status()
        return self._status

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        done = self.request.query_params.get("done")
        return render(
            self.request,
            template,
            status,
            lang=self.lang,
            base=self.base,
            csrf=self.sessions.csrf_token(self.session),
            here=self.request.url.path,
            banner=self.status.banner,
            done="done_" + done if done and has_text("done_" + done) else None,
            **values,
        )

    def redirect(self, path: str, done: str | None = None) -> Response:
        return Response(status_code=303, headers={"location": self.base + path + (f"?done={done}" if done else "")})


def card_state(request: Request) -> tuple[Context, Sessions]:
    state: tuple[Context, Sessions] = request.app.state.card
    return state


def signed_in(request: Request, org: str = Path(pattern=IDENTIFIER)) -> Page:
    """The session's page for ``org``: 401 without a valid session, 403 for another organization's pages."""
    ctx, sessions = card_state(request)
    session = sessions.read(request.cookies.get(COOKIE))
    if session is None:
        raise CardError(401, "signed_out")
    if session.organization_id != org:
        raise CardError(403, "forbidden")
    return Page(request, session, sessions, CardApi(ctx, org, session.user), language(request))


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form (``application/x-www-form-urlencoded``; the body limit of the API applies)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise CardError(415, "csrf_failed")
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=4000)
    return dict(pairs)


@dataclass
class Posted:
    page: Page
    form: dict[str, str]


def posted(
    page: Page = Depends(signed_in),  # noqa: B008 - FastAPI's dependency declaration
    form: dict[str, str] = Depends(form_fields),  # noqa: B008
) -> Posted:
    """A form post of the signed-in organization, with its session's CSRF token and from our own origin."""
    origin = page.request.headers.get("origin")
    if origin is not None and _origin(origin) != _origin(str(page.request.base_url)):
        raise CardError(403, "csrf_failed")
    if not page.sessions.csrf_ok(page.session, form.get("csrf")):
        raise CardError(403, "csrf_failed")
    return Posted(page, form)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def error_page(request: Request, error: CardError) -> HTMLResponse:
    return render(request, "error.html", error.status, message=error.text, detail=error.detail)


class CardRoute(APIRoute):
    """Card routes answer with a page, never the API's JSON: an API error the route did not handle is shown."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except CardError as error:
                return error_page(request, error)
            except ApiError as error:
                text = error.body.code if has_text(error.body.code) else "error_heading"
                if error.status == 502:
                    text = "bl_configuration"
                return error_page(request, CardError(error.status, text, error.body.message))

        return handle


class SecurityHeaders:
    """The headers of every card response (pages, redirects, errors, the stylesheet, the day report)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).removeprefix(str(scope.get("root_path", "")))
        if scope["type"] != "http" or not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
