"""The port of what the BL pre-flight keeps of each company, shared by every process: its fiscal years, and the
accounts and cost centres its merchant's plan maps (:mod:`exporters.bl.facts` decides what is kept and for how
long; :mod:`storage.company_facts` keeps it in PostgreSQL).

- **Every key carries its tenant**: facts are kept per (organization, digest of the BL company's key). The key
  itself is never stored: :func:`company_digest` is a SHA-256 of its canonical form (a random GUID, so the digest
  cannot be reversed by guessing), and the facts are BL's about its own company (years, accounts), nothing of the
  merchant's sales.
- **One fetch for every process** (:meth:`CompanyFactsStore.fetch_once`): a process that needs facts the store does
  not hold takes the company's lock, looks again (another process may have fetched them while it waited), and
  only then asks BL. No database transaction is open while BL is asked.
- **Forgotten means forgotten everywhere** (:meth:`CompanyFactsStore.forget`): a fetch that began before a forget
  is never kept after it, so the first look after a merchant's fix asks BL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.secrets import canonical_key

#: What is kept per company, one entry each.
FISCAL_YEARS, ACCOUNTS, COST_CENTRES = "fiscal_years", "accounts", "cost_centres"
KINDS = (FISCAL_YEARS, ACCOUNTS, COST_CENTRES)


def company_digest(user_key: str) -> str:
    """The name under which a BL company's facts are kept: SHA-256 of the key's canonical form (as the
    integrations' look-up digest), of the key as given when it is not a GUID (a test's or another tool's)."""
    try:
        text = canonical_key(user_key)
    except ValueError:
        text = user_key
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """One kind of facts as kept: JSON (the exporter's own shape) and when the fetch that found them began
    (the database's clock, so every process ages them alike)."""

    facts: Any
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Fetched:
    """The answer of :meth:`CompanyFactsStore.fetch_once`. ``fresh``: found by a fetch that ended after the caller
    began asking (its own, or another process's it waited for), not merely kept from before. ``kept``: ``stored``
    is what the store holds now (False when the company was forgotten while the fetch ran)."""

    stored: StoredFacts
    fresh: bool
    kept: bool = True


class CompanyFactsStore(Protocol):
    def versions(self, org: str, company: str) -> dict[str, datetime]:
        """kind → ``fetched_at`` of every kind kept for the company: what a process compares its memory with."""
        ...

    def read(self, org: str, company: str, kind: str) -> StoredFacts | None: ...

    def fetch_once(
        self,
        org: str,
        company: str,
        kind: str,
        usable: Callable[[StoredFacts, bool], bool],
        fetch: Callable[[StoredFacts | None], Any],
    ) -> Fetched:
        """Under the (company, kind)'s lock across processes: what is kept, if ``usable(kept, fetched_meanwhile)``
        accepts it (``fetched_meanwhile``: another process stored it while this caller waited for the lock); else
        ``fetch(kept)`` (BL, with no transaction open; it returns what to keep), kept unless the company was
        forgotten since it began. ``fetch``'s exception is raised as it is, the lock released."""
        ...

    def forget(self, org: str, company: str, kinds: Collection[str] = KINDS) -> None:
        """Kept for nobody from now on, including what a fetch in progress finds."""
        ...
