"""Typed configuration of the BL client, and the one source of its defaults: ``dayclose.config.load_settings``
builds it from the environment (``BL_*``) once, and every setting left out keeps the default here."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.exporter import mask_secret
from service.secrets import Secret

PRODUCTION_BASE_URL = "https://apigateway.blinfo.se/bla-api/v1/sp"
PRODUCTION_TOKEN_URL = "https://apigateway.blinfo.se/auth/oauth/v2/token"  # noqa: S105 - a URL


@dataclass(frozen=True, slots=True)
class BLConfig:
    """Everything the BL adapter needs. The client secret never appears in ``repr``.

    Retries: at most ``max_retries`` retries after the first attempt, waiting a jittered
    exponential backoff between ``backoff_initial_s`` and ``backoff_max_s``; a ``Retry-After``
    from BL is honoured up to ``retry_after_cap_s``.
    """

    client_id: str
    client_secret: Secret = field(repr=False)
    base_url: str = PRODUCTION_BASE_URL
    token_url: str = PRODUCTION_TOKEN_URL
    timeout_s: float = 20.0
    connect_timeout_s: float = 5.0
    #: The client's token bucket, shared by every thread of the process (one per pod): public BL clients stay
    #: under 10 req/s in total. If BL limits our client id, this is the limit that holds (÷ pods).
    max_requests_per_second: float = 8.0
    #: A token bucket per BL company (User-Key), beside the client's: if BL limits each company instead, this
    #: keeps each under its limit (÷ the pods one company's stores may be spread over) while the client's may be
    #: raised. The default, like the client's, binds only once the client's is raised above it.
    max_requests_per_second_per_company: float = 8.0
    rate_limit_burst: int = 1
    max_retries: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    retry_after_cap_s: float = 30.0
    #: After a post whose outcome is unknown (timeout or reset after sending, 5xx), wait at least this
    #: long before looking the reference up again: BL may still be committing the first post, and a
    #: look-up that runs too early would miss it and post a second voucher.
    ambiguous_quiet_s: float = 20.0
    #: Renew the token this long before BL says it expires.
    token_renew_margin_s: float = 60.0
    #: How long the accounts and cost centres fetched for the pre-flight stay valid (each company's for between 0.8 ×
    #: and 1 × this, so companies do not all ask on one night). A week: longer than a day so that a company's next
    #: midnight finds them (a day would expire just as it starts), short enough to bound what BL does not check — a
    #: VAT code changed in BL without the plan being saved. Fiscal years are kept until outgrown or refused
    #: (exporters/bl/kept.py).
    preflight_ttl_s: float = 604_800.0
    #: At most this many companies' pre-flight facts are kept in a process's memory (least recently used out first;
    #: a few kB each). All of them are kept in PostgreSQL.
    preflight_max_companies: int = 20_000
    pool_size: int = 16
    user_agent: str = "dayclose-bl-exporter/0.1"

    def __post_init__(self) -> None:
        if isinstance(self.client_secret, str):  # a plain string from a caller: wrapped, never shown
            object.__setattr__(self, "client_secret", Secret(self.client_secret))
        problems = []
        if not self.client_id:
            problems.append("client_id is empty")
        if not self.client_secret:
            problems.append("client_secret is empty")
        if self.timeout_s <= 0 or self.connect_timeout_s <= 0:
            problems.append("timeouts must be positive")
        if self.max_requests_per_second <= 0 or self.max_requests_per_second_per_company <= 0:
            problems.append("rate limits must be positive")
        if self.rate_limit_burst < 1:
            problems.append("rate limit burst must be >= 1")
        if self.preflight_ttl_s < 0 or self.preflight_max_companies < 1:
            problems.append("the pre-flight cache needs a TTL >= 0 and room for a company")
        if self.max_retries < 0:
            problems.append("max_retries must be >= 0")
        if problems:
            raise ValueError("invalid BLConfig: " + "; ".join(problems))

    @property
    def timeouts(self) -> tuple[float, float]:
        return (self.connect_timeout_s, self.timeout_s)

    def describe(self) -> str:
        """One-line summary safe to log at start-up."""
        return (
            f"BL at {self.base_url} as client {self.client_id} (secret {mask_secret(self.client_secret.reveal())}), "
            f"{self.max_requests_per_second:g} req/s ({self.max_requests_per_second_per_company:g} per company), "
            f"{self.max_retries} retries, timeout {self.timeout_s:g}s"
        )
