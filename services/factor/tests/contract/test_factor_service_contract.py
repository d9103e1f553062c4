"""FactorService over a real gRPC server (identity + factor on a throw-away PostgreSQL): every RPC, its error
codes with their FieldViolations, visibility across users, the default-model switch and the mapping rules."""

from __future__ import annotations

import grpc
import pytest

from zquant.factor.v1 import events_pb2
from zquant.factor.v1 import factor_pb2 as pb
from zquant_factor.application.definition_events import DEFINITION_CREATED, DEFINITION_DELETED
from zquant_kit.events.model import Event
from zquant_kit.testing import ErrorDetails, expect_error, walk_pages

pytestmark = pytest.mark.contract
C = grpc.StatusCode


async def invalid(call, field: str) -> ErrorDetails:
    found = await expect_error(call, C.INVALID_ARGUMENT)
    assert field in found.fields, found
    return found


def builtin(name: str, column: str, visibility=pb.VISIBILITY_PRIVATE) -> pb.CreateFactorDefinitionRequest:
    return pb.CreateFactorDefinitionRequest(
        factor_name=name, cn_name=name, en_name=name, column_name=column, description="d",
        kind=pb.FACTOR_KIND_BUILTIN_INDICATOR, visibility=visibility,
    )  # fmt: skip


async def test_definition_round_trip_and_paging(factor):
    _, alice = await factor.user("alice")
    created = await factor.factors.CreateFactorDefinition(builtin("macd_std", "macd_std"), metadata=alice)
    d = created.definition
    assert (d.factor_name, d.kind, d.visibility, d.enabled) == (
        "macd_std",
        pb.FACTOR_KIND_BUILTIN_INDICATOR,
        pb.VISIBILITY_PRIVATE,
        True,
    )
    got = await factor.factors.GetFactorDefinition(
        pb.GetFactorDefinitionRequest(factor_id=d.id), metadata=alice
    )
    assert got.definition == d
    updated = await factor.factors.UpdateFactorDefinition(
        pb.UpdateFactorDefinitionRequest(factor_id=d.id, description="new", enabled=False), metadata=alice
    )
    assert (updated.definition.description, updated.definition.enabled, updated.definition.cn_name) == (
        "new",
        False,
        "macd_std",
    )
    for i in range(4):
        await factor.factors.CreateFactorDefinition(builtin(f"f{i}", f"c{i}"), metadata=alice)

    def page(token: str):
        request = pb.ListFactorDefinitionsRequest(page_size=2, page_token=token)
        return factor.factors.ListFactorDefinitions(request, metadata=alice)

    seen, pages = await walk_pages(page, lambda reply: [x.factor_name for x in reply.definitions], 2)
    assert (seen, pages) == (["f0", "f1", "f2", "f3", "macd_std"], 3)
    await factor.factors.DeleteFactorDefinition(
        pb.DeleteFactorDefinitionRequest(factor_id=d.id), metadata=alice
    )
    await expect_error(
        factor.factors.GetFactorDefinition(pb.GetFactorDefinitionRequest(factor_id=d.id), metadata=alice),
        C.NOT_FOUND,
    )


async def test_bad_input_names_the_field(factor):
    _, alice = await factor.user("alice")
    await invalid(
        factor.factors.CreateFactorDefinition(builtin("ok", "Bad-Column"), metadata=alice), "column_name"
    )
    await invalid(factor.factors.CreateFactorDefinition(builtin("9bad", "ok"), metadata=alice), "factor_name")
    no_kind = builtin("ok", "ok")
    no_kind.kind = pb.FACTOR_KIND_UNSPECIFIED
    await invalid(factor.factors.CreateFactorDefinition(no_kind, metadata=alice), "kind")
    custom = builtin("cust", "cust")
    custom.kind, custom.expression = pb.FACTOR_KIND_CUSTOM_EXPRESSION, "ref(close, -1)"
    await invalid(factor.factors.CreateFactorDefinition(custom, metadata=alice), "expression")
    long = builtin("x" * 101, "ok")
    await invalid(factor.factors.CreateFactorDefinition(long, metadata=alice), "factor_name")
    await factor.factors.CreateFactorDefinition(builtin("dup", "dup"), metadata=alice)
    await expect_error(
        factor.factors.CreateFactorDefinition(builtin("dup", "dup2"), metadata=alice), C.ALREADY_EXISTS
    )
    made = await factor.factors.CreateFactorDefinition(builtin("m", "m"), metadata=alice)
    request = pb.CreateFactorModelRequest(
        factor_id=made.definition.id, model_code="macd", params=[pb.ParamValue(name="fast", int_value=0)]
    )
    await invalid(factor.factors.CreateFactorModel(request, metadata=alice), "params.fast")
    request = pb.CreateFactorModelRequest(factor_id=made.definition.id, model_code="nope")
    await invalid(factor.factors.CreateFactorModel(request, metadata=alice), "model_code")
    await invalid(
        factor.factors.ListFactorDefinitions(
            pb.ListFactorDefinitionsRequest(page_token="garbage"), metadata=alice
        ),
        "page_token",
    )


async def test_another_users_private_factor_is_not_found(factor):
    _, alice = await factor.user("alice")
    _, bob = await factor.user("bob")
    private = (
        await factor.factors.CreateFactorDefinition(builtin("mine", "mine"), metadata=alice)
    ).definition
    shared = (
        await factor.factors.CreateFactorDefinition(
            builtin("ours", "ours", pb.VISIBILITY_SHARED), metadata=alice
        )
    ).definition
    model = (
        await factor.factors.CreateFactorModel(
            pb.CreateFactorModelRequest(factor_id=private.id, model_code="rsi"), metadata=alice
        )
    ).model
    for call in (
        factor.factors.GetFactorDefinition(pb.GetFactorDefinitionRequest(factor_id=private.id), metadata=bob),
        factor.factors.ListFactorModels(pb.ListFactorModelsRequest(factor_id=private.id), metadata=bob),
        factor.factors.GetFactorConfig(pb.GetFactorConfigRequest(factor_id=private.id), metadata=bob),
        factor.factors.DeleteFactorDefinition(
            pb.DeleteFactorDefinitionRequest(factor_id=private.id), metadata=bob
        ),
        factor.factors.SetDefaultFactorModel(
            pb.SetDefaultFactorModelRequest(model_id=model.id), metadata=bob
        ),
        factor.factors.DeleteFactorModel(pb.DeleteFactorModelRequest(model_id=model.id), metadata=bob),
    ):
        await expect_error(call, C.NOT_FOUND)
    seen = await factor.factors.ListFactorDefinitions(pb.ListFactorDefinitionsRequest(), metadata=bob)
    assert [d.factor_name for d in seen.definitions] == ["ours"]
    await expect_error(
        factor.factors.UpdateFactorDefinition(
            pb.UpdateFactorDefinitionRequest(factor_id=shared.id, description="x"), metadata=bob
        ),
        C.PERMISSION_DENIED,
    )


async def test_default_model_switch_and_mapping_rules(factor):
    _, alice = await factor.user("alice")
    d = (await factor.factors.CreateFactorDefinition(builtin("rsi_x", "rsi_x"), metadata=alice)).definition

    async def model(n: int) -> pb.FactorModel:
        request = pb.CreateFactorModelRequest(
            factor_id=d.id, model_code="rsi", params=[pb.ParamValue(name="n", int_value=n)]
        )
        return (await factor.factors.CreateFactorModel(request, metadata=alice)).model

    first, second = await model(6), await model(12)
    assert first.is_default and not second.is_default
    switched = await factor.factors.SetDefaultFactorModel(
        pb.SetDefaultFactorModelRequest(model_id=second.id), metadata=alice
    )
    assert switched.model.is_default
    listed = await factor.factors.ListFactorModels(pb.ListFactorModelsRequest(factor_id=d.id), metadata=alice)
    assert [(m.id, m.is_default) for m in listed.models] == [(first.id, False), (second.id, True)]
    await expect_error(
        factor.factors.DeleteFactorModel(pb.DeleteFactorModelRequest(model_id=second.id), metadata=alice),
        C.FAILED_PRECONDITION,
    )

    other = (
        await factor.factors.CreateFactorDefinition(builtin("other", "other"), metadata=alice)
    ).definition
    foreign = (
        await factor.factors.CreateFactorModel(
            pb.CreateFactorModelRequest(factor_id=other.id, model_code="rsi"), metadata=alice
        )
    ).model

    def put(*mappings: pb.ModelMapping):
        request = pb.PutFactorConfigRequest(factor_id=d.id, enabled=True, mappings=list(mappings))
        return factor.factors.PutFactorConfig(request, metadata=alice)

    await invalid(put(pb.ModelMapping(model_id=foreign.id)), "mappings[0].model_id")
    await invalid(
        put(pb.ModelMapping(model_id=first.id), pb.ModelMapping(model_id=second.id)), "mappings[1].codes"
    )
    twice = (
        pb.ModelMapping(model_id=first.id, codes=["600000.SH"]),
        pb.ModelMapping(model_id=second.id, codes=["600000.sh"]),
    )
    await invalid(put(*twice), "mappings[1].codes[0]")
    saved = await put(
        pb.ModelMapping(model_id=first.id, codes=["600000.sh"]), pb.ModelMapping(model_id=second.id)
    )
    assert [(m.model_id, list(m.codes)) for m in saved.config.mappings] == [
        (first.id, ["600000.SH"]),
        (second.id, []),
    ]
    got = await factor.factors.GetFactorConfig(pb.GetFactorConfigRequest(factor_id=d.id), metadata=alice)
    assert got.config == saved.config
    await expect_error(
        factor.factors.DeleteFactorModel(pb.DeleteFactorModelRequest(model_id=first.id), metadata=alice),
        C.FAILED_PRECONDITION,
    )
    assert (await factor.app.resolution.plan(d.id, ["600000.SH", "000001.SZ"])) == {
        first.id: ("600000.SH",), second.id: ("000001.SZ",)
    }  # fmt: skip


async def test_calculators_list_their_param_schemas(factor):
    _, alice = await factor.user("alice")
    found = await factor.factors.ListCalculators(pb.ListCalculatorsRequest(), metadata=alice)
    by_code = {c.model_code: c for c in found.calculators}
    boll = by_code["boll"]
    assert boll.price_scaled and list(boll.outputs) == ["mid", "upper", "lower"]
    specs = {p.name: p for p in boll.params}
    assert specs["n"].type == "int" and specs["n"].default_value.int_value == 20
    assert specs["width"].default_value.double_value == 2.0 and specs["width"].maximum == 10.0
    assert not specs["sample_std"].HasField("minimum")


async def test_definition_changes_leave_through_the_outbox(factor, eventually):
    seen: list[tuple[str, str]] = []

    async def capture(event: Event) -> None:
        seen.append((event.type, event.decode(events_pb2.FactorDefinitionChangedEvent).factor_name))

    await factor.client.stack.bus.subscribe("test-capture", "factor.definition.>", capture)
    _, alice = await factor.user("alice")
    made = (await factor.factors.CreateFactorDefinition(builtin("evt", "evt"), metadata=alice)).definition
    await factor.factors.DeleteFactorDefinition(
        pb.DeleteFactorDefinitionRequest(factor_id=made.id), metadata=alice
    )

    async def both_published() -> bool:
        return len(seen) == 2

    assert await eventually(both_published, timeout=5.0), seen
    assert seen == [(DEFINITION_CREATED, "evt"), (DEFINITION_DELETED, "evt")]
