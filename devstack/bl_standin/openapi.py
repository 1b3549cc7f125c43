"""BL's OpenAPI document: request bodies are checked against its schemas.

``strict=True`` additionally refuses properties a schema does not declare (BL itself ignores
them, but a misspelt field we send would then silently be dropped: tests want to know).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

DOCUMENT = Path(__file__).with_name("bl-openapi-subset.json")


class OpenApiDocument:
    def __init__(self, path: Path | str = DOCUMENT, strict: bool = False) -> None:
        self.path = Path(path)
        self.document: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        self.strict = strict
        self.base_path = "/" + self.document["servers"][0]["url"].split("://", 1)[-1].split("/", 1)[-1]
        root = {"components": copy.deepcopy(self.document["components"])}
        if strict:
            for schema in root["components"]["schemas"].values():
                _close(schema)
        self._root = root
        self._templates = [
            (method.upper(), template, re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", template) + "$"))
            for template, ops in self.document["paths"].items()
            for method in ops
            if method != "parameters"
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The path template and operation object an API path (without base path) matches."""
        candidates = [(t, rx) for m, t, rx in self._templates if m == method.upper() and rx.match(path)]
        if not candidates:
            return None
        # A literal segment beats a parameter: /journal/entry/batch before /journal/entry/{id}/...
        template = min(candidates, key=lambda c: c[0].count("{"))[0]
        return template, self.document["paths"][template][method.lower()]

    def json_body_schema(self, method: str, path: str) -> dict[str, Any] | None:
        found = self.operation(method, path)
        if found is None:
            return None
        content = found[1].get("requestBody", {}).get("content", {})
        schema: dict[str, Any] | None = content.get("application/json", {}).get("schema")
        return schema

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """Every way ``instance`` breaks ``schema`` (which may be a ``$ref`` into the document)."""
        validator = _validator(self, json.dumps(schema, sort_keys=True))
        return sorted(
            f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in validator.iter_errors(instance)
        )


@cache
def _validator(doc: OpenApiDocument, schema_text: str) -> OAS30Validator:
    schema = {**json.loads(schema_text), **doc._root}  # noqa: SLF001 - same module family
    return OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER)


def _close(schema: dict[str, Any]) -> None:
    """additionalProperties: false on every object schema that lists its properties."""
    if isinstance(schema.get("properties"), dict) and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for value in schema.get("properties", {}).values():
        if isinstance(value, dict):
            _close(value)
    if isinstance(schema.get("items"), dict):
        _close(schema["items"])
