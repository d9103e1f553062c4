"""Walks every RPC of every `zquant.*` service found in the generated stubs, with the cases of `fuzz_cases`.

Discovery is by package, not by a list: importing every `zquant.*_pb2` module loads its descriptors, so a
service added later is walked for free. A call is judged by its status code and its duration only.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc

import zquant
from tests.fuzz.fuzz_cases import Case, cases

CALL_LIMIT_SECONDS = 5.0
STREAM_MESSAGES = 3
FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def zquant_services() -> list[ServiceDescriptor]:
    """Every service declared under the `zquant.` proto package, from the generated modules."""
    found: dict[str, ServiceDescriptor] = {}
    for root in map(Path, zquant.__path__):  # a namespace package: pkgutil would not descend into it
        for module_file in sorted(root.rglob("*_pb2.py")):
            module = ".".join(("zquant", *module_file.relative_to(root).with_suffix("").parts))
            file_descriptor = importlib.import_module(module).DESCRIPTOR
            for service in file_descriptor.services_by_name.values():
                if service.full_name.startswith("zquant."):
                    found[service.full_name] = service
    return [found[name] for name in sorted(found)]


@dataclass
class Failure:
    rpc: str
    field: str
    label: str
    problem: str


@dataclass
class WalkReport:
    codes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[Failure] = field(default_factory=list)
    calls: int = 0
    seconds_by_label: Counter = field(default_factory=Counter)
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def summary(self, title: str) -> str:
        lines = [f"== fuzz {title}: {self.calls} calls, {len(self.failures)} failures"]
        for rpc in sorted(self.codes):
            counts = ", ".join(f"{code}={n}" for code, n in sorted(self.codes[rpc].items()))
            lines.append(f"  {rpc:<58} {counts}")
        lines.append("  seconds per value: " + ", ".join(f"{k}={v:.1f}" for k, v in self.seconds_by_label.most_common(6)))
        lines.append("  slowest calls: " + ", ".join(f"{what} {seconds:.2f}s" for seconds, what in self.slowest))
        lines += [f"  FAIL {f.rpc} {f.field or '<request>'}={f.label}: {f.problem}" for f in self.failures]
        return "\n".join(lines)


def _one_message_stream(stub):
    def call(request, **kwargs):
        return stub(iter([request]), **kwargs)

    return call


class FuzzWalker:
    """Sends every case of every method to the server hosting its service, as one caller."""

    def __init__(self, channels: dict[str, grpc.aio.Channel], relogin, skip_labels=frozenset()) -> None:
        self._channels = channels
        self._skip = frozenset(skip_labels)
        self._health = [health_pb2_grpc.HealthStub(c) for c in {id(c): c for c in channels.values()}.values()]
        self._relogin = relogin
        self.metadata: list[tuple[str, str]] = []

    async def sign_in(self) -> None:
        self.metadata = await self._relogin([])

    async def walk(self, services: list[ServiceDescriptor], report: WalkReport) -> None:
        for service in services:
            channel = self._channels[service.full_name]
            for method in service.methods:
                for case in cases(message_factory.GetMessageClass(method.input_type), self._skip):
                    await self._call(channel, method, case, report)
                await self._after_method(method, report)

    async def _call(self, channel, method: MethodDescriptor, case: Case, report: WalkReport) -> None:
        rpc = f"{method.containing_service.name}.{method.name}"
        response_class = message_factory.GetMessageClass(method.output_type)
        path = f"/{method.containing_service.full_name}/{method.name}"
        options = {"request_serializer": type(case.request).SerializeToString,
                   "response_deserializer": response_class.FromString}
        started = time.monotonic()
        # A client-streaming method (none in the contracts today) gets the case as a one-message stream.
        kind = ("stream" if method.client_streaming else "unary") + ("_stream" if method.server_streaming else "_unary")
        stub = getattr(channel, kind)(path, **options)
        if method.client_streaming:
            stub = _one_message_stream(stub)
        if method.server_streaming:
            code = await self._stream(stub, case)
        else:
            code = await self._unary(stub, case)
        elapsed = time.monotonic() - started
        report.calls += 1
        report.seconds_by_label[case.label] += elapsed
        report.slowest = sorted([*report.slowest, (elapsed, f"{rpc} {case.field}={case.label}")], reverse=True)[:5]
        report.codes[rpc][code.name if isinstance(code, grpc.StatusCode) else code] += 1
        if code in FORBIDDEN:
            report.failures.append(Failure(rpc, case.field, case.label, code.name))
        if elapsed > CALL_LIMIT_SECONDS:
            report.failures.append(Failure(rpc, case.field, case.label, f"took {elapsed:.1f} s"))

    async def _unary(self, stub, case: Case):
        try:
            await stub(case.request, metadata=self.metadata, timeout=2 * CALL_LIMIT_SECONDS)
            return grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            return error.code()

    async def _stream(self, stub, case: Case):
        """Reads a few messages within the time limit, then cancels: the stream's start is what is judged."""
        call = stub(case.request, metadata=self.metadata, timeout=2 * CALL_LIMIT_SECONDS)
        try:
            async with asyncio.timeout(CALL_LIMIT_SECONDS):
                for _ in range(STREAM_MESSAGES):
                    if await call.read() is grpc.aio.EOF:
                        break
        except TimeoutError:
            call.cancel()
            return "STREAMING"
        except grpc.aio.AioRpcError as error:
            return error.code()
        if call.done():
            return await call.code()
        call.cancel()
        return "STREAMING"

    async def _after_method(self, method: MethodDescriptor, report: WalkReport) -> None:
        """The server must still be SERVING; a walk that ended the caller's session (a fuzzed logout) logs in again."""
        for health in self._health:
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=CALL_LIMIT_SECONDS)
            if reply.status != health_pb2.HealthCheckResponse.SERVING:
                report.failures.append(Failure(method.full_name, "", "", f"health {reply.status} afterwards"))
        self.metadata = await self._relogin(self.metadata)
