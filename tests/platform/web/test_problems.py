"""The published schema documents the problem documents the API really sends for 4xx."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from dealerhub.platform.web.problems import PROBLEM_MEDIA_TYPE, Problem
from tests.conftest import bearer_for

pytestmark = pytest.mark.anyio
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def api_operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, operation)
            for path, item in schema["paths"].items() if path.startswith("/api/")
            for method, operation in item.items() if isinstance(operation, dict)]


async def test_every_api_refusal_is_documented_as_a_problem_document(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operations = api_operations(schema)
    assert len(operations) > 50
    for path, method, operation in operations:
        refusals = {code: response for code, response in operation["responses"].items()
                    if code.startswith("4")}
        assert "400" in refusals, (method, path)
        for code, response in refusals.items():
            assert response["content"] == {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}, (
                method, path, code)
    customer = schema["paths"]["/api/v1/customers/{customer_id}"]["get"]["responses"]
    assert {"400", "401", "403", "404"} <= customer.keys()
    sign_in = schema["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "401" not in sign_in and "404" not in sign_in
    assert schema["components"]["schemas"]["Problem"]["required"] == ["status", "title", "type"]


async def test_real_refusals_decode_as_the_documented_problem(client, dealer_a) -> None:
    headers = await bearer_for(client, dealer_a.emails["service_advisor"])
    bad = await client.post("/api/v1/customers", headers=headers,
                            json={"name": "王伟", "email": "nope"})
    missing = await client.get(f"/api/v1/customers/{uuid.uuid4()}", headers=headers)
    anonymous = await client.get("/api/v1/customers")
    for response, status in ((bad, 400), (missing, 404), (anonymous, 401)):
        assert response.status_code == status
        assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
        problem = msgspec.json.decode(response.content, type=Problem, strict=True)
        assert problem.status == status and problem.title
    assert [error.key for error in msgspec.json.decode(bad.content, type=Problem).errors or []
            ] == ["email"]
