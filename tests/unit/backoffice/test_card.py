"""The card's pure parts: it reaches the product through the API's operations only (no storage, no SQL), its
sessions and CSRF tokens, the plan steps' form ↔ plan, and the local stack's sign-in link."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from backoffice.auth import TokenVerifier
from backoffice.card import plan_form
from backoffice.card.session import LIFETIME_S, Sessions
from backoffice.card.texts import _TEXTS, translator
from backoffice.models_plan import MissingItem, Plan, ProductGroupRate
from devstack.card import signin_url
from service.secrets import Secret
from tests.tokens import SERVICE_TOKEN

CARD = Path(__file__).resolve().parents[3] / "backoffice" / "card"
#: The API's own operations and models, the reason registry's texts, and what every module may use.
ALLOWED = (
    "backoffice",  # its API operations and models (``from backoffice import routes_…``)
    "service.reasons",
    "service.secrets",
    "fastapi",
    "starlette",
    "pydantic",
    "jinja2",
    "joserfc",
    "cryptography",
    "__future__",
    "collections",
    "dataclasses",
    "datetime",
    "typing",
    "uuid",
    "json",
    "base64",
    "hashlib",
    "hmac",
    "secrets",
    "time",
    "urllib",
    "zoneinfo",
    "re",
)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CARD.glob("*.py")), ids=lambda p: p.name)
def test_the_card_goes_through_the_api_never_around_it(path: Path) -> None:
    """No storage, no psycopg, no BL client, no Kafka: what the card shows and changes, the API gave and took."""
    outside = {name for name in imported(path) if not name.startswith(ALLOWED) and name not in ALLOWED}
    assert outside == set()
    assert not any(name.startswith(("storage", "psycopg", "exporters", "consumer")) for name in imported(path))


def test_a_session_is_one_organizations_for_an_hour_and_its_csrf_token_is_its_own() -> None:
    now = [1_800_000_000.0]
    sessions = Sessions([SERVICE_TOKEN], clock=lambda: now[0])
    cookie, session = sessions.issue("org-1", "anna")
    assert sessions.read(cookie) == session and session.user == "anna"
    other_cookie, other = sessions.issue("org-1", "anna")
    assert sessions.csrf_ok(session, sessions.csrf_token(session))
    assert not sessions.csrf_ok(session, sessions.csrf_token(other)) and not sessions.csrf_ok(session, None)
    now[0] += LIFETIME_S + 1
    assert sessions.read(cookie) is None  # expired
    rotated = Sessions([Secret("new:" + "n" * 40)], clock=lambda: now[0] - LIFETIME_S)
    assert rotated.read(other_cookie) is None  # another key set: every session ends
    assert sessions.read("x" * 5000) is None


def test_the_sign_in_link_carries_a_token_the_api_accepts() -> None:
    url = signin_url("http://127.0.0.1:8080/", "org-demo", SERVICE_TOKEN, now=1_800_000_000)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("127.0.0.1:8080", "/card/signin")
    (token,) = parse_qs(parts.query)["token"]
    verifier = TokenVerifier([SERVICE_TOKEN], clock=lambda: 1_800_000_100)
    assert verifier.organization(f"Bearer {token}") == "org-demo"


def plan(**fields: object) -> Plan:
    base: dict[str, object] = {"series": "D", "version": 1, "complete": False, "missing": []}
    return Plan.model_validate({**base, **fields})


def test_a_posted_step_replaces_only_its_own_fields_and_an_emptied_field_unmaps() -> None:
    stored = plan(
        payment_methods={"cash": "1910", "card": "1686"},
        product_groups={"coffee": {"600": "3003", "1200": "3002"}, "tea": {"600": "3003"}},
        sales_default_by_rate={"600": "3003"},
        events={"TIPS": "2829"},
        single_purpose_groups=["massage"],
    )
    form = {
        "csrf": "x",
        "product_groups.coffee.600": " 3002 ",
        "product_groups.coffee.1200": "",
        "sales_default_by_rate.600": "",
        "events.TIPS": "9999",
    }
    body = plan_form.merged("product-groups", stored, form)
    assert body["product_groups"] == {"coffee": {"600": "3002"}, "tea": {"600": "3003"}}
    assert body["sales_default_by_rate"] == {}
    assert body["events"] == {"TIPS": "2829"}  # another step's field in the post changes nothing
    assert body["payment_methods"] == {"cash": "1910", "card": "1686"} and body["single_purpose_groups"] == ["massage"]


def test_rows_offer_bas_suggestions_for_what_is_missing_and_say_where_it_was_seen() -> None:
    stored = plan(
        version=0,
        missing=[
            MissingItem(kind="product_group", code="books", vat_rate=600, source="sales", last_seen=date(2026, 12, 1))
        ],
        product_group_rates=[
            ProductGroupRate(
                product_group="books", vat_rate=600, account=None, account_source="missing", seen_in=["sales"]
            )
        ],
    )
    t = translator("sv")
    from backoffice.models_plan import RegisteredItems

    defaults, groups = plan_form.rows("product-groups", stored, RegisteredItems(), t, "sv")
    assert [(r.name, r.value) for r in defaults.rows] == [
        ("sales_default_by_rate.2500", "3001"),
        ("sales_default_by_rate.1200", "3002"),
        ("sales_default_by_rate.600", "3003"),
        ("sales_default_by_rate.0", "3004"),
    ]
    (books,) = groups.rows
    assert (books.name, books.label, books.value, books.new) == (
        "product_groups.books.600",
        "books – 6 % moms",
        "3003",
        True,
    )
    assert books.hint == "Sedd i försäljningen, senast 2026-12-01."
    assert plan_form.step_missing("product-groups", stored) == ["product_groups.books.600"]


def test_every_text_has_swedish_and_english() -> None:
    assert all(sv and en for sv, en in _TEXTS.values())
    assert translator("en")("status_active", since="x") == "Active since x"
