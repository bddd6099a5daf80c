"""The generic isolation walk: every route in the OpenAPI schema, called by every kind of
principal of dealer A with ids that belong to dealer B, answers 404 or 403.

Routes added later are covered automatically because the walk reads the schema; a path
parameter without a factory in `tests/isolation_factories.py` fails the walk.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from dealerhub.platform.auth import API_KEY_SCOPES, create_api_key
from tests.conftest import DealerFixture, bearer_for, login_page_session
from tests.isolation_factories import PATH_PARAM_FACTORIES

pytestmark = pytest.mark.anyio
PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
ALLOWED = {403, 404}
BODY_METHODS = {"post", "put", "patch"}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in schema.get("paths", {}).items():
        if not PARAM.search(path):
            continue
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((path, method, operation))
    return found


def synthesize(schema: dict[str, Any], components: dict[str, Any], ids: dict[str, str]) -> Any:
    """A minimal body satisfying the schema's required fields, so validation passes and
    the request reaches the lookup that must answer 404."""
    if "$ref" in schema:
        return synthesize(components[schema["$ref"].split("/")[-1]], components, ids)
    for combined in ("oneOf", "anyOf"):
        if combined in schema:
            options = [s for s in schema[combined] if s.get("type") != "null"]
            return synthesize(options[0] if options else {}, components, ids)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {
            name: (ids[name] if name in ids else synthesize(properties[name], components, ids))
            for name in schema.get("required", [])
        }
    if kind == "array":
        return (
            [synthesize(schema.get("items", {}), components, ids)] if schema.get("minItems") else []
        )
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1.0, schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    formats = {
        "uuid": str(uuid.uuid4()),
        "date-time": "2030-01-07T02:00:00Z",
        "date": "2030-01-07",
        "email": "x@example.com",
        "time": "10:00:00",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    return "x" * max(1, schema.get("minLength", 1))


async def principals(client: Any, dealer: DealerFixture) -> list[tuple[str, dict[str, str]]]:
    found = [(role, await bearer_for(client, email)) for role, email in dealer.emails.items()]
    issued = await create_api_key(dealer.id, "walk", sorted(API_KEY_SCOPES), None)
    found.append(("integration", {"Authorization": f"Bearer {issued.plaintext}"}))
    return found


async def test_every_route_hides_other_dealers_objects(client, dealer_a, dealer_b) -> None:
    schema = client.app.openapi_schema.to_schema()
    components = schema.get("components", {}).get("schemas", {})
    walked = operations(schema)
    assert walked, "the schema has no routes with path parameters"
    missing = sorted(
        {name for path, _, _ in walked for name in PARAM.findall(path)}
        - PATH_PARAM_FACTORIES.keys()
    )
    assert not missing, f"add isolation factories for path parameters: {missing}"
    ids = {name: str(await factory(dealer_b)) for name, factory in PATH_PARAM_FACTORIES.items()}
    api_principals = await principals(client, dealer_a)
    failures: list[str] = []
    for path, method, operation in walked:
        url = PARAM.sub(lambda m: ids[m.group(1)], path)
        body = None
        if method in BODY_METHODS:
            content = operation.get("requestBody", {}).get("content", {})
            json_schema = content.get("application/json", {}).get("schema")
            body = synthesize(json_schema, components, ids) if json_schema else None
        if path.startswith("/api/"):
            for role, headers in api_principals:
                response = await client.request(method.upper(), url, headers=headers, json=body)
                if response.status_code not in ALLOWED:
                    failures.append(f"{role} {method.upper()} {url} -> {response.status_code}")
        else:
            for role, email in dealer_a.emails.items():
                await login_page_session(client, email)
                headers = {"x-csrftoken": client.cookies.get("dh_csrf") or ""}
                response = await client.request(
                    method.upper(), url, headers=headers, json=body, follow_redirects=False
                )
                if response.status_code not in ALLOWED:
                    failures.append(f"{role} {method.upper()} {url} -> {response.status_code}")
    assert not failures, "\n".join(failures)


async def test_walk_reaches_the_objects_it_uses(client, dealer_b) -> None:
    """The factories make real objects: dealer B's own admin can read a B api key."""
    key_id = await PATH_PARAM_FACTORIES["api_key_id"](dealer_b)
    headers = await bearer_for(client, dealer_b.emails["dealer_admin"])
    assert (await client.get(f"/api/v1/api-keys/{key_id}", headers=headers)).status_code == 200
