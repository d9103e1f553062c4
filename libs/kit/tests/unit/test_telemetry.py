"""One trace spans publish → consume: the trace context rides in the event headers, stamped at the outbox write."""

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from zquant.identity.v1 import events_pb2
from zquant_kit import telemetry
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.events.model import Event
from zquant_kit.persistence.outbox import outbox_row

pytestmark = pytest.mark.unit


@pytest.fixture
def spans(monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "_configured", True)
    monkeypatch.setattr(telemetry, "_tracer", provider.get_tracer("test"))
    yield provider, exporter


def test_telemetry_off_installs_nothing():
    assert telemetry.server_interceptors(False) == []
    assert telemetry.configure("identity", "none") is False


async def test_event_carries_trace_context_to_the_consumer(spans):
    provider, exporter = spans
    bus = InProcessEventBus()
    seen = []

    async def handler(event):
        seen.append(trace.get_current_span().get_span_context().trace_id)

    await bus.subscribe("c", "identity.user.deleted.v1", handler)
    with provider.get_tracer("test").start_as_current_span("rpc DeleteUser") as parent:
        row = outbox_row(Event.create("identity.user.deleted.v1", events_pb2.UserDeletedEvent(user_id="u1")))
    event = Event(row["event_id"], row["event_type"], row["payload"], row["created_at"], row["headers"])
    assert "traceparent" in event.headers
    await bus.publish(event)
    consume = [s for s in exporter.get_finished_spans() if s.name == "consume identity.user.deleted.v1"]
    assert len(consume) == 1
    assert consume[0].context.trace_id == parent.get_span_context().trace_id
    assert consume[0].parent.span_id == parent.get_span_context().span_id
    assert seen == [parent.get_span_context().trace_id]


def test_tracing_on_adds_grpc_interceptors():
    assert len(telemetry.server_interceptors(True)) == 1
    assert telemetry.client_interceptors(True)
    assert telemetry.client_interceptors(False) == []
