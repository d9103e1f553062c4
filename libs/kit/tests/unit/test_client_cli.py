"""client_cli: the token lookup, the progress lines (live, plain, quiet) and the exit status of a client command."""

from __future__ import annotations

import argparse
import io

import grpc
import pytest

from zquant_kit.client_cli import UsageError, add_client_group, bearer_metadata, run_client, show_progress

pytestmark = pytest.mark.unit


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_token_comes_from_the_flag_else_the_environment(monkeypatch):
    monkeypatch.setenv("ZQUANT_TOKEN", "from-env")
    assert bearer_metadata(argparse.Namespace(token="")) == (("authorization", "Bearer from-env"),)
    assert bearer_metadata(argparse.Namespace(token="flag")) == (("authorization", "Bearer flag"),)
    monkeypatch.delenv("ZQUANT_TOKEN")
    with pytest.raises(UsageError, match="no access token"):
        bearer_metadata(argparse.Namespace(token=""))


def test_progress_is_redrawn_on_a_terminal_one_line_each_elsewhere_and_silent_when_quiet():
    def line(percent: int) -> str:
        return f"{percent}%"

    plain, live, quiet = io.StringIO(), Terminal(), io.StringIO()
    assert show_progress([10, 100], line, plain, quiet=False) == 100
    assert plain.getvalue() == "10%\n100%\n"
    show_progress([10, 100], line, live, quiet=False)
    assert live.getvalue() == "\r" + "10%".ljust(100) + "\r" + "100%".ljust(100) + "\n"
    assert show_progress([], line, quiet, quiet=True) is None and quiet.getvalue() == ""


def test_a_usage_error_exits_2_and_a_command_exits_with_its_status(capsys):
    def refuse(channel: grpc.Channel) -> int:
        raise UsageError("bad flag")

    with pytest.raises(SystemExit) as refused:
        run_client("factor", "127.0.0.1:1", refuse)
    assert refused.value.code == 2 and capsys.readouterr().err == "zquant factor: bad flag\n"
    with pytest.raises(SystemExit) as done:
        run_client("factor", "127.0.0.1:1", lambda channel: None)
    assert done.value.code == 0


def test_a_group_takes_address_and_token_and_names_its_commands():
    parser = argparse.ArgumentParser()
    commands = add_client_group(parser.add_subparsers(), "jobs", help="jobs", service="scheduler")
    commands.add_parser("list").set_defaults(command=print)
    args = parser.parse_args(["jobs", "--address", "h:1", "--token", "t", "list"])
    assert (args.address, args.token, args.jobs_command, args.command) == ("h:1", "t", "list", print)
    assert callable(args.handler)
