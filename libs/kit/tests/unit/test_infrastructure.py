"""The kit's Infrastructure: settings parsed once, start hooks in order, stop hooks in reverse, then relay and engine."""

import pytest
from google.protobuf import empty_pb2
from sqlalchemy import MetaData

from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.events.model import Event
from zquant_kit.infrastructure import Infrastructure, OnInfrastructure, ServiceConfig
from zquant_kit.persistence.outbox import outbox_table
from zquant_kit.settings import Settings

pytestmark = pytest.mark.unit


def test_service_config_reads_the_kit_settings_of_one_service(tmp_path):
    settings = Settings(
        {
            "ZQUANT_DATA_DIR": str(tmp_path),
            "ZQUANT_OTEL_EXPORTER": "console",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.25",
            "ZQUANT_IDENTITY_ADDRESS": "identity.internal:50051",
            "ZQUANT_SERVICE_SECRET": "s" * 40,
        }
    )
    config = ServiceConfig.from_settings("factor", settings)
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'factor.db'}" and config.on_sqlite
    assert config.tracing and config.outbox_poll_seconds == 0.25
    assert config.identity_address == "identity.internal:50051"
    assert (config.jwt_issuer, config.jwt_audience) == ("zquant-identity", "zquant")
    assert config.service_secret == "s" * 40
    with pytest.raises(AttributeError):
        config.name = "other"  # frozen: parsed once, read everywhere


async def test_hooks_start_in_order_and_stop_in_reverse_before_the_relay_and_engine(tmp_path):
    config = ServiceConfig.from_settings("factor", Settings({"ZQUANT_DATA_DIR": str(tmp_path)}))
    bus = InProcessEventBus()
    metadata = MetaData(schema="factor")
    infra = Infrastructure(config, "factor", outbox_table(metadata), bus)
    async with infra.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    calls: list[str] = []
    heard: list[str] = []

    def hook(name: str):
        async def run() -> None:
            calls.append(name)

        return run

    async def on_event(event: Event) -> None:
        heard.append(event.type)

    infra.on_start(hook("start-a"))
    infra.subscribe("factor-test", "factor.thing.v1", on_event)
    infra.on_start(hook("start-b"))
    infra.on_stop(hook("stop-a"))
    infra.on_stop(hook("stop-b"))

    class App(OnInfrastructure):
        def __init__(self, infra: Infrastructure) -> None:
            self.infra = infra

    app = App(infra)
    assert app.engine is infra.engine and app.sessions is infra.sessions
    await bus.start()
    await app.start()
    assert calls == ["start-a", "start-b"]
    await bus.publish(Event.create("factor.thing.v1", empty_pb2.Empty()))
    await app.stop()
    await bus.close()
    assert calls == ["start-a", "start-b", "stop-b", "stop-a"]
    assert heard == ["factor.thing.v1"]
