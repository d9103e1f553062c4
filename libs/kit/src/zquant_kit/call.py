"""`zquant call` and `zquant login`: call any RPC with JSON in and JSON out, with nothing but the venv.

The method is looked up by name, first among the generated `zquant.*` stubs installed next to the kit,
then through the server's reflection, so no service is named here and new services need no change.
The address defaults to where `zquant serve` puts the method's service (`zquant.<service>.v1.…`).
A command-line client runs no event loop of its own, so it uses grpc's blocking API.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import io
import json
import os
import pkgutil
import sys
from typing import TextIO

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.rpc import error_details_pb2  # noqa: F401  (registers the detail types for printing)
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status

from zquant_kit.auth import signed_metadata
from zquant_kit.client_cli import access_token
from zquant_kit.grpc.client import bearer
from zquant_kit.settings import DEFAULT_PORTS, Settings

LOGIN_METHOD = "zquant.identity.v1.AuthService/Login"
CLIENT_COMMANDS = ("call", "login")


class CallError(Exception):
    """A usage problem (unknown method, bad JSON): printed as one line, exit status 2."""


def _split(name: str) -> tuple[str, str]:
    service, sep, method = name.lstrip("/").rpartition("/")
    if not sep:
        service, _, method = name.rpartition(".")
    if not service or not method:
        raise CallError(f"method must look like package.Service/Method, not {name!r}")
    return service, method


def _load_local_stubs() -> None:
    """Imports every generated `zquant.*_pb2` module, filling the default descriptor pool."""
    try:
        import zquant
    except ImportError:
        return
    for module in pkgutil.walk_packages(zquant.__path__, "zquant."):
        if module.name.endswith("_pb2"):
            importlib.import_module(module.name)


def find_method(service: str, method: str, channel: grpc.Channel) -> MethodDescriptor:
    _load_local_stubs()
    pools = [descriptor_pool.Default()]
    pools.append(descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel)))
    for pool in pools:
        try:
            return pool.FindServiceByName(service).methods_by_name[method]
        except (KeyError, grpc.RpcError):
            continue
    raise CallError(f"no method {service}/{method} here or in the server's reflection")


def default_address(service: str, settings: Settings) -> str:
    """`zquant.<name>.v1.…` goes where `zquant serve` puts <name>; anything else (grpc.health.v1, …) to identity."""
    parts = service.split(".")
    name = parts[1] if len(parts) > 2 and parts[0] == "zquant" else ""
    known = name in DEFAULT_PORTS or any(
        settings.get(f"ZQUANT_{name.upper()}_{key}") for key in ("PORT", "ADDRESS")
    )
    return settings.address(name if name and known else "identity")


def _metadata(args: argparse.Namespace, method_path: str, body: bytes) -> tuple[tuple[str, str], ...]:
    metadata: list[tuple[str, str]] = []
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise CallError(f"header must look like 'name: value', not {header!r}")
        metadata.append((name.strip().lower(), value.strip()))
    key_id = args.api_key or os.environ.get("ZQUANT_API_KEY", "")
    if key_id:
        secret = os.environ.get("ZQUANT_API_SECRET", "")
        if not secret:
            raise CallError("--api-key needs its secret in ZQUANT_API_SECRET")
        return (*metadata, *signed_metadata(key_id, secret, method_path, body))
    token = access_token(args)
    if token:
        metadata.extend(bearer(token))
    return tuple(metadata)


def _print_error(error: grpc.RpcError) -> None:
    print(f"ERROR {error.code().name}: {error.details()}", file=sys.stderr)
    status = rpc_status.from_call(error)  # type: ignore[arg-type]  # a failed call's RpcError is a grpc.Call
    for detail in status.details if status is not None else ():
        try:
            print(json.dumps(json_format.MessageToDict(detail)), file=sys.stderr)
        except (TypeError, json_format.Error):
            print(json.dumps({"@type": detail.type_url}), file=sys.stderr)


def invoke(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    """Runs one call; returns the process exit status (0, 1 for an RPC error, 2 for a usage error)."""
    out = out or sys.stdout
    service, method = _split(args.method)
    address = args.address or default_address(service, settings)
    with grpc.insecure_channel(address) as channel:
        descriptor = find_method(service, method, channel)
        request_class = message_factory.GetMessageClass(descriptor.input_type)
        response_class = message_factory.GetMessageClass(descriptor.output_type)
        try:
            request = json_format.Parse(args.body or "{}", request_class())
        except json_format.ParseError as exc:
            raise CallError(f"request body: {exc}") from None
        path = f"/{service}/{method}"
        body = request.SerializeToString(deterministic=True)
        metadata = _metadata(args, path, body)
        serializer, deserializer = (
            (lambda m: m.SerializeToString(deterministic=True)),
            response_class.FromString,
        )
        try:
            if descriptor.client_streaming:
                raise CallError(f"{path} takes a request stream; zquant call sends one request")
            if descriptor.server_streaming:
                stream = channel.unary_stream(
                    path, request_serializer=serializer, response_deserializer=deserializer
                )
                for response in stream(request, metadata=metadata, timeout=args.timeout):
                    print(
                        json.dumps(json_format.MessageToDict(response), ensure_ascii=False),
                        file=out,
                        flush=True,
                    )
            else:
                unary = channel.unary_unary(
                    path, request_serializer=serializer, response_deserializer=deserializer
                )
                response = unary(request, metadata=metadata, timeout=args.timeout)
                print(json.dumps(json_format.MessageToDict(response), indent=2, ensure_ascii=False), file=out)
        except grpc.RpcError as error:
            _print_error(error)
            return 1
    return 0


def call_command(args: argparse.Namespace, settings: Settings) -> None:
    try:
        raise SystemExit(invoke(args, settings))
    except CallError as exc:
        print(f"zquant call: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except BrokenPipeError:  # `zquant call … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None


def login_command(args: argparse.Namespace, settings: Settings) -> None:
    """Prints only the access token, so `export ZQUANT_TOKEN=$(zquant login admin)` works."""
    password = os.environ.get("ZQUANT_PASSWORD") or (
        getpass.getpass(f"password for {args.username}: ")
        if sys.stdin.isatty()
        else sys.stdin.readline().rstrip("\n")
    )
    body = json.dumps({"username": args.username, "password": password})
    call = argparse.Namespace(
        method=LOGIN_METHOD,
        body=body,
        address=args.address,
        token="",
        api_key="",
        header=[],
        timeout=args.timeout,
    )

    captured = io.StringIO()
    try:
        status = invoke(call, settings, out=captured)
    except CallError as exc:
        print(f"zquant login: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if status:
        raise SystemExit(status)
    print(json.loads(captured.getvalue())["tokens"]["accessToken"])


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    call = sub.add_parser(
        "call",
        help="call an RPC: JSON in, JSON out (streams: one JSON line per message)",
        description="zquant call [--address HOST:PORT] [--token T] package.Service/Method '{json}'",
    )
    call.add_argument("method", help="e.g. zquant.identity.v1.UserService/GetMe")
    call.add_argument("body", nargs="?", default="{}", help="the request as JSON (proto3 JSON mapping)")
    call.add_argument(
        "--address", default="", help="host:port; default: where `zquant serve` puts the service"
    )
    call.add_argument("--token", default="", help="access token (default: $ZQUANT_TOKEN)")
    call.add_argument(
        "--api-key",
        default="",
        help="API key id to sign with (default: $ZQUANT_API_KEY); secret in $ZQUANT_API_SECRET",
    )
    call.add_argument("-H", "--header", action="append", default=[], help="extra metadata 'name: value'")
    call.add_argument("--timeout", type=float, default=None, help="deadline in seconds")
    call.set_defaults(handler=call_command)
    login = sub.add_parser(
        "login", help="log in and print the access token (password: prompt, stdin or $ZQUANT_PASSWORD)"
    )
    login.add_argument("username", nargs="?", default="admin")
    login.add_argument("--address", default="")
    login.add_argument("--timeout", type=float, default=30.0)
    login.set_defaults(handler=login_command)
