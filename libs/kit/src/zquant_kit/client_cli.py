"""What every `zquant <group> …` client command of a service shares: `--address`/`--token`, the caller's bearer
metadata, the progress lines of a watched job, and one way to run the chosen command against the service and exit.

These commands run no event loop of their own, so they use grpc's blocking API.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import grpc

from zquant_kit.grpc.client import bearer
from zquant_kit.settings import Settings

Metadata = tuple[tuple[str, str], ...]
Reply = TypeVar("Reply")
if (
    TYPE_CHECKING
):  # what `add_subparsers` returns: argparse keeps its type private, and generic only in typeshed
    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]


class UsageError(Exception):
    """A bad argument or an unknown name: one line on stderr, exit status 2."""


def add_client_group(
    subparsers: Subcommands,
    name: str,
    *,
    help: str,
    service: str = "",
    address_help: str = "",
    connect: Callable[[grpc.Channel], Any] = lambda channel: channel,
) -> Subcommands:
    """`zquant <name> [--address] [--token] <command> …`; returns where its commands are added. Each command
    `set_defaults(command=…)` and is called as `command(args, connect(channel), stdout)` over a channel to
    `--address`, else the address of `service` (default: `name`) from the settings."""
    service = service or name
    group = subparsers.add_parser(name, help=help)
    group.add_argument("--address", default="", help=address_help or f"host:port of the {service} service")
    group.add_argument("--token", default="", help="access token (default: $ZQUANT_TOKEN)")

    def handler(args: argparse.Namespace, settings: Settings) -> None:
        def command(channel: grpc.Channel) -> int | None:
            status: int | None = args.command(args, connect(channel), sys.stdout)
            return status

        run_client(name, args.address or settings.address(service), command)

    group.set_defaults(handler=handler)
    commands: Subcommands = group.add_subparsers(dest=f"{name}_command", required=True)
    return commands


def access_token(args: argparse.Namespace) -> str:
    """The caller's access token: `--token`, else `$ZQUANT_TOKEN` ("" when neither)."""
    token: str = args.token or os.environ.get("ZQUANT_TOKEN", "")
    return token


def bearer_metadata(args: argparse.Namespace) -> Metadata:
    """The caller's access token as call metadata; a usage error without one."""
    token = access_token(args)
    if not token:
        raise UsageError("no access token: pass --token or export ZQUANT_TOKEN=$(zquant login <user>)")
    return tuple(bearer(token))


def progress_bar(percent: float, width: int = 30) -> str:
    filled = int(width * percent / 100)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def show_progress(
    replies: Iterable[Reply], line: Callable[[Reply], str], out: TextIO, quiet: bool
) -> Reply | None:
    """Prints `line(reply)` for each reply, redrawn in place on a terminal, one line each elsewhere, nothing when
    `quiet`; returns the last reply (None when there was none)."""
    live = out.isatty() and not quiet
    last = None
    for reply in replies:
        last = reply
        text = line(reply)
        if live:
            print("\r" + text.ljust(100), end="", file=out, flush=True)
        elif not quiet:
            print(text, file=out, flush=True)
    if live:
        print(file=out)
    return last


def run_client(prog: str, address: str, command: Callable[[grpc.Channel], int | None]) -> None:
    """Runs `command` over a channel to `address` and exits with its status: a `UsageError` exits 2 and an RPC
    error 1, each as one line on stderr."""
    try:
        with grpc.insecure_channel(address) as channel:
            status = command(channel)
    except UsageError as exc:
        print(f"zquant {prog}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except grpc.RpcError as error:
        print(f"ERROR {error.code().name}: {error.details()}", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(status or 0)
