"""The committed OpenAPI document (backoffice/openapi.json): ``python -m backoffice.openapi_doc`` rewrites it
from the app; a test fails when the two differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backoffice.bl import Chart
from dayclose.config import BLSettings, KafkaSettings, Settings
from dayclose.secrets import Secret
from exporters.base import CompanyDetails

PATH = Path(__file__).with_name("openapi.json")


class _NoBL:
    def verify(self, user_key: str) -> CompanyDetails:
        raise NotImplementedError

    def chart(self, user_key: str) -> Chart:
        raise NotImplementedError


class _NoPublisher:
    def publish(self, record: dict[str, Any]) -> None:
        raise NotImplementedError


def document() -> dict[str, Any]:
    """The app's OpenAPI document, built without any I/O (placeholder settings and adapters)."""
    from psycopg_pool import ConnectionPool

    from backoffice.app import create_app

    settings = Settings(database_url="postgresql://unused/unused", kafka=KafkaSettings("unused:9092"),
                        bl=BLSettings(), key_encryption_key=Secret("x" * 43 + "="),
                        api_tokens=(Secret("unused:" + "x" * 32),))
    pool: ConnectionPool[Any] = ConnectionPool(settings.database_url, open=False)
    return create_app(settings, bl=_NoBL(), pool=pool, publisher=_NoPublisher()).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {PATH}")
