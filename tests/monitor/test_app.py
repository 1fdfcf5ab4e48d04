"""The app's wiring: capabilities, audit events, demo data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from zichtbaar.accounts.roles import Role, roles_for
from zichtbaar.audit.events import ACTION_OF
from zichtbaar.monitor import demo, selectors
from zichtbaar.monitor.events import MonitorAuditEvent
from zichtbaar.monitor.models import IndicatorVintage

R = Role


def test_capabilities_are_registered() -> None:
    assert roles_for("monitor.view") == {R.RESEARCHER, R.ANALYST, R.SUPERVISOR, R.ADMIN,
                                         R.COORDINATOR}
    assert roles_for("monitor.catalogue.manage") == {R.ADMIN}
    assert roles_for("monitor.values.enter") == {R.RESEARCHER, R.ADMIN}


def test_every_audit_event_is_registered() -> None:
    assert all(str(event) in ACTION_OF for event in MonitorAuditEvent)


@pytest.mark.django_db
def test_demo_loads_reference_and_derived_values_once() -> None:
    messages: list[str] = []
    assert demo.load(messages.append) == []
    count = IndicatorVintage.objects.count()
    rate = selectors.value_as_published("AL1-02", 2024, source="nr")
    assert rate is not None and round(rate.value, 1) == Decimal("5.3")
    demo.load(messages.append)
    assert IndicatorVintage.objects.count() == count
    assert any("reference values" in m for m in messages)
