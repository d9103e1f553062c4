"""OpenTelemetry wiring. Exporter chosen by ZQUANT_OTEL_EXPORTER (none | console | otlp); `none` installs nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

if TYPE_CHECKING:
    import grpc
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

_configured = False
_tracer = trace.get_tracer("zquant")


def configure(service_name: str, exporter: str) -> bool:
    """Installs a tracer provider once per process; returns whether tracing is on."""
    global _configured
    if exporter == "none":
        return False
    if _configured:
        return True
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    span_exporter: SpanExporter
    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        span_exporter = OTLPSpanExporter()
    else:
        raise ValueError(f"ZQUANT_OTEL_EXPORTER must be none, console or otlp, not {exporter!r}")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def server_interceptors(enabled: bool) -> list[grpc.aio.ServerInterceptor[Any, Any]]:
    if not enabled:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]  # type: ignore[no-untyped-call]


def client_interceptors(enabled: bool) -> list[grpc.aio.ClientInterceptor]:
    if not enabled:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors())  # type: ignore[no-untyped-call]


_engines: list[Engine] = []


def instrument_engine(engine: AsyncEngine, enabled: bool) -> None:
    """The instrumentor is a process-wide singleton that takes its engines at once: in all-in-one mode
    every service's engine is added, so the set is re-instrumented as a whole."""
    if not enabled:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    _engines.append(engine.sync_engine)
    # The instrumentation pins sqlalchemy < 2.1; its event hooks work unchanged on 2.1 (see the smoke test).
    instrumentor.instrument(engines=list(_engines), skip_dep_check=True)


def inject_context(headers: dict[str, str]) -> None:
    """Writes `traceparent` into event headers when a span is active (a no-op when tracing is off)."""
    propagate.inject(headers)


@contextlib.contextmanager
def consumer_span(
    consumer: str, event_type: str, event_id: str, headers: Mapping[str, str]
) -> Iterator[None]:
    """A CONSUMER span for handling one event, child of the trace its headers carry (events know no tracing)."""
    if not _configured:
        yield
        return
    parent = propagate.extract(headers)
    token = otel_context.attach(parent)
    try:
        with _tracer.start_as_current_span(
            f"consume {event_type}",
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.consumer": consumer,
                "messaging.message.id": event_id,
            },
        ):
            yield
    finally:
        otel_context.detach(token)
