"""A bounded schemathesis run against the published OpenAPI schema of the partner API.

The schema is fetched from the app itself (``/api/v1/schema/``) and every operation is
called in-process through Django's WSGI handler with a real organisation token: no network.
Deterministic (``derandomize``) and bounded (``MAX_EXAMPLES`` per operation and mode).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from zichtbaar.hub import services
from zichtbaar.hub.models import Signal

from .conftest import person, submit

MAX_EXAMPLES = 30
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance,
          content_type_conformance, response_schema_conformance]


@pytest.fixture
def api(world) -> Any:  # type: ignore[no-untyped-def]
    """The police's token, with one handover in its inbox so the list has a real payload.

    Like Django's test client, the handler keeps the test's database connection open
    between requests (it would otherwise close it and lose the test transaction).
    """
    signal = submit(forms=["sexual"], minor=True, persons=[person(given_name="Ana",
                                                                  surname="Testova")])
    handover = services.handover_create(actor=None, signal=signal, partner=world.police)
    _token, plain = services.api_token_create(actor=None, organisation=world.police,
                                              name="schemathesis")
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler())
        yield {"schema": schema, "headers": {"Authorization": f"Bearer {plain}"},
               "handover": handover}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE,
                                  schemathesis.GenerationMode.NEGATIVE])
def test_partner_api_conforms_to_its_published_schema(api, mode) -> None:  # type: ignore[no-untyped-def]
    operations = [result.ok() for result in api["schema"].get_all_operations()]
    labels = sorted(op.label for op in operations)
    assert labels == ["GET /api/v1/handovers/", "POST /api/v1/handovers/{id}/outcome/",
                      "POST /api/v1/signals/"]
    statuses: dict[str, set[int]] = {}
    before = Signal.objects.count()

    for operation in operations:
        seen = statuses.setdefault(operation.label, set())

        @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            response = case.call_and_validate(headers=api["headers"], checks=CHECKS)
            seen.add(response.status_code)  # noqa: B023  # called at once, inside this loop

        check()

    # The run really exercised the API: inputs were accepted and refused with 4xx answers.
    assert all(codes for codes in statuses.values()), statuses
    assert all(code < 500 for codes in statuses.values() for code in codes), statuses
    assert 200 in statuses["GET /api/v1/handovers/"]
    if mode == schemathesis.GenerationMode.POSITIVE:
        assert 201 in statuses["POST /api/v1/signals/"]
        assert Signal.objects.count() > before
    else:
        assert 400 in statuses["POST /api/v1/signals/"]
