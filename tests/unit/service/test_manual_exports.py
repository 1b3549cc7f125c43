"""The export button through the bus (service/manual_exports.py): a new request and its command in the outbox, or
the request in progress that covers it (coalesced), decided under the organization's lock; nothing while the
integration is not active. With a small fake of each of the three ports it uses (no database)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from service import bus
from service.commands import IntegrationNotActive
from service.manual_exports import ManualExportAsked, RequestManualExport
from service.messages import Command, ManualExportRequested
from service.model import Integration, IntegrationStatus

AT = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)


@dataclass
class FakeIntegrations:
    by_org: dict[str, Integration] = field(default_factory=dict)

    def get(self, org: str, *, lock: bool = False) -> Integration | None:
        return self.by_org.get(org)


@dataclass
class FakeRequests:
    #: (organization, request id, store, requested by, state) of each request, oldest first.
    rows: list[tuple[str, uuid.UUID, str | None, str | None, str]] = field(default_factory=list)
    #: What was called, in order (the lock must come before the read of what is pending).
    calls: list[str] = field(default_factory=list)

    def lock(self, org: str) -> None:
        self.calls.append(f"lock {org}")

    def pending(self, org: str, store: str | None) -> tuple[uuid.UUID, datetime] | None:
        self.calls.append("pending")
        covering = [r for r in self.rows if r[0] == org and r[2] in (None, store) and r[4] != "done"]
        return (covering[-1][1], AT) if covering else None

    def get(self, org: str, request_id: uuid.UUID) -> dict[str, Any] | None:
        found = [r for r in self.rows if (r[0], r[1]) == (org, request_id)]
        if not found:
            return None
        _, rid, store, _, state = found[0]
        return {"request_id": rid, "store_id": store, "requested_at": AT, "state": state}

    def record(self, request_id: uuid.UUID, org: str, store: str | None, requested_by: str | None) -> datetime:
        self.calls.append("record")
        self.rows.append((org, request_id, store, requested_by, "requested"))
        return AT


@dataclass
class FakeOutbox:
    commands: list[Command] = field(default_factory=list)

    def command(self, command: Command) -> None:
        self.commands.append(command)


@dataclass
class FakeWork:
    integrations: FakeIntegrations = field(default_factory=FakeIntegrations)
    manual_exports: FakeRequests = field(default_factory=FakeRequests)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)


def active(org: str = "org-a", status: IntegrationStatus = IntegrationStatus.ACTIVE) -> FakeIntegrations:
    return FakeIntegrations({org: Integration(org, status, None, None)})


def test_a_click_records_the_request_and_puts_its_command_in_the_outbox() -> None:
    work = FakeWork(active())
    asked = bus.handle(work, RequestManualExport("org-a", "s1", "anna"))
    assert asked == ManualExportAsked(asked.request_id, "s1", AT, "requested", coalesced=False)
    assert work.outbox.commands == [ManualExportRequested(str(asked.request_id), "org-a", "s1", AT, "anna")]
    assert work.manual_exports.calls == ["lock org-a", "pending", "record"]


def test_a_click_while_a_request_covering_the_store_is_in_progress_returns_that_one_and_sends_nothing() -> None:
    work = FakeWork(active())
    everything = bus.handle(work, RequestManualExport("org-a", None, "anna"))
    again = bus.handle(work, RequestManualExport("org-a", "s1", "bo"))
    assert again == ManualExportAsked(everything.request_id, None, AT, "requested", coalesced=True)
    assert len(work.outbox.commands) == 1


def test_a_request_for_one_store_does_not_cover_another_nor_all_and_a_done_one_covers_nothing() -> None:
    work = FakeWork(active())
    one = bus.handle(work, RequestManualExport("org-a", "s1", None))
    assert not bus.handle(work, RequestManualExport("org-a", "s2", None)).coalesced
    assert not bus.handle(work, RequestManualExport("org-a", None, None)).coalesced
    work.manual_exports.rows = [(*r[:4], "done") for r in work.manual_exports.rows]
    assert bus.handle(work, RequestManualExport("org-a", "s1", None)).request_id != one.request_id
    assert len(work.outbox.commands) == 4


@pytest.mark.parametrize("integrations", [FakeIntegrations(), active(status=IntegrationStatus.INACTIVE)])
def test_nothing_is_recorded_or_sent_unless_the_integration_is_active(integrations: FakeIntegrations) -> None:
    work = FakeWork(integrations)
    with pytest.raises(IntegrationNotActive):
        bus.handle(work, RequestManualExport("org-a", None, "anna"))
    assert work.manual_exports.calls == [] and work.outbox.commands == []
