"""Property-based testing of every API in the OpenAPI document (schemathesis, bounded examples):
whatever a client sends, the answer is never a 500 and an error is a clear JSON body.

Driven through hypothesis directly, one operation after another: schemathesis' own pytest
plugin does not run under this pytest version."""

import json
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 5


def test_no_input_makes_the_server_fail(make_occurrence: Any, anonymous: Client) -> None:
    make_occurrence("Tampakan", lon=125.05, lat=6.48, deposit_type="Porphyry Cu-Au")
    raw = json.loads(anonymous.get("/ogc/api", {"f": "json"}).content)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()  # requests go straight to Django, inside this test's transaction
    failures: list[str] = []
    calls = 0

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(headers={"Host": "localhost"})
            where = f"{case.method} {case.formatted_path} {case.query}"
            if response.status_code >= 500 and response.status_code != 503:
                failures.append(f"{where} -> {response.status_code}: {response.text[:300]}")
            elif 400 <= response.status_code < 500 and "json" in response.headers.get(
                "Content-Type", ""
            ):
                body = response.json()
                if not (body.get("error") or body.get("description") or body.get("detail")):
                    failures.append(
                        f"{where} -> {response.status_code} without an error message: {body}"
                    )

        check()

    assert calls >= 50, f"only {calls} requests were generated"
    assert not failures, "\n".join(failures[:20])
