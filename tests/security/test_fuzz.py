"""Schemathesis against the app's own OpenAPI schema (API operations and page routes), as
every kind of principal: dealer A's admin, service advisor, CS agent and all-scopes API
key, the OEM admin and analyst, and nobody.

Checks for every generated request: no 5xx; a JSON API response conforms to the schema
its operation declares; dealer A's principals see none of dealer B's personal values or
row ids; OEM and anonymous principals see no customer's personal values.

Generation is seeded (DEALERHUB_FUZZ_SEED) and bounded (DEALERHUB_FUZZ_EXAMPLES per
operation), so a failure reproduces with the same seed. Failures are collected, not
shrunk, so one run lists them all.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.security.world import PATH_PARAM, Principal, World, full_schema

pytestmark = pytest.mark.anyio
SEED = int(os.environ.get("DEALERHUB_FUZZ_SEED", "20261123"))
EXAMPLES = int(os.environ.get("DEALERHUB_FUZZ_EXAMPLES", "6"))
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
BASE_URL = "http://testserver.local"


def fuzz_settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def strategies(operation: Any, world: World) -> st.SearchStrategy[tuple[Principal, Any]]:
    """Data with dealer A's real objects in the path (reaching the code behind the lookup)
    first, then random ids, then data that breaks the schema; dealer A's admin first.

    OEM principals only send invalid writes: a valid one would change OEM-wide data (the
    national question bank, vehicle models, scoring weights) under the rest of the suite."""
    real = {name: world.a_ids[name] for name in PATH_PARAM.findall(operation.path)
            if name in world.a_ids}
    cases = [operation.as_strategy(GenerationMode.POSITIVE)]
    if real:
        cases.insert(0, operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
    invalid = operation.as_strategy(GenerationMode.NEGATIVE)
    dealer_side = st.sampled_from([p for p in world.principals if not p.is_oem])
    oem = st.sampled_from([p for p in world.principals if p.is_oem])
    oem_cases = invalid if operation.method.upper() in WRITES else st.one_of(*cases, invalid)
    return st.one_of(st.tuples(dealer_side, st.one_of(*cases, invalid)),
                     st.tuples(oem, oem_cases))


def request_kwargs(case: Any, principal: Principal, csrf: str) -> dict[str, Any]:
    """httpx arguments from Schemathesis's serialised case, with the principal's
    credentials (and the CSRF pair a signed-in browser would send to a page form)."""
    sent = case.as_transport_kwargs(base_url=BASE_URL)
    headers = {k: v for k, v in (sent.get("headers") or {}).items()
               if k.lower() not in {"authorization", "cookie"}}
    headers.update(principal.headers)
    headers["x-csrftoken"] = csrf
    kwargs: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "headers": headers,
        "params": sent.get("params"),
        "cookies": {**(sent.get("cookies") or {}), "dh_csrf": csrf},
        "follow_redirects": False,
    }
    if "json" in sent:
        kwargs["json"] = sent["json"]
    elif isinstance(sent.get("data"), (str, bytes)):
        kwargs["content"] = sent["data"]
    elif sent.get("data") is not None:
        kwargs["data"] = sent["data"]
    if sent.get("files"):
        kwargs["files"] = sent["files"]
    return kwargs


def problems(case: Any, response: Any, principal: Principal, world: World) -> list[str]:
    found: list[str] = []
    checks = [not_a_server_error]
    if case.path.startswith("/api/") and "json" in response.headers.get("content-type", ""):
        checks.append(response_schema_conformance)
    try:
        case.validate_response(response, checks=checks)
    except FailureGroup as group:
        found += [f"{failure.title}: {failure.message[:300]}" for failure in group.exceptions]
    if case.path.startswith("/api/") and 400 <= response.status_code < 500:
        found += problem_body_errors(response)
    leaked = world.leaks(principal, response.text)
    if leaked:
        found.append(f"leaked {leaked[:3]}")
    return found


def problem_body_errors(response: Any) -> list[str]:
    """The API's refusals are RFC 9457 problem documents (the schema's conformance check
    validates their fields; this checks the media type and that status and title agree)."""
    if response.headers.get("content-type", "").split(";")[0] != "application/problem+json":
        return [f"a refusal as {response.headers.get('content-type')}, not problem+json"]
    body = response.json()
    if body.get("status") != response.status_code or not body.get("title"):
        return [f"a problem document without matching status and title: {body}"]
    return []


async def test_fuzz_every_operation_as_every_principal(security_client, world: World) -> None:
    from dealerhub.app import create_app

    schema = schemathesis.openapi.from_dict(full_schema(create_app(embedded_jobs=False)))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 150, "the schema lost its operations"
    await security_client.get("/login")
    csrf = security_client.cookies.get("dh_csrf") or ""
    failures: dict[str, set[str]] = {}
    answered: dict[str, Counter[int]] = {}

    async def send(kwargs: dict[str, Any]) -> Any:
        response = await security_client.request(**kwargs)
        await response.request.aread()  # a multipart body streams; the checks read it
        return response

    def fuzz(operation: Any) -> None:
        @hypothesis.seed(SEED)
        @fuzz_settings()
        @given(strategies(operation, world))
        def run(drawn: tuple[Principal, Any]) -> None:
            principal, case = drawn
            response = anyio.from_thread.run(send, request_kwargs(case, principal, csrf))
            answered.setdefault(operation.label, Counter())[response.status_code] += 1
            for problem in problems(case, response, principal, world):
                failures.setdefault(f"{operation.label} as {principal.name}", set()).add(
                    f"{response.status_code} {problem} [{case.as_curl_command()[:300]}]")

        run()

    def fuzz_all() -> None:
        for operation in operations:
            fuzz(operation)

    await anyio.to_thread.run_sync(fuzz_all)
    reached = sorted(label for label, counts in answered.items()
                     if any(200 <= status < 400 for status in counts))
    print(f"fuzz: {sum(map(sum, map(Counter.values, answered.values())))} requests, "
          f"{len(reached)} of {len(operations)} operations answered 2xx/3xx")
    assert len(reached) * 10 >= len(operations) * 6, "most requests were refused: see principals"
    report = [f"{where}: {detail}" for where, details in sorted(failures.items())
              for detail in sorted(details)]
    assert not report, f"seed {SEED}, {len(report)} problems:\n" + "\n".join(report)
