"""`zquant` command: serve services and manage their databases; installed packages add the rest (`zquant demo`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from zquant_kit import redaction
from zquant_kit.call import CLIENT_COMMANDS
from zquant_kit.call import register as register_call
from zquant_kit.files import private_dir, private_file
from zquant_kit.service import ServiceDefinition, discover
from zquant_kit.settings import Settings

# SQLAlchemy, Alembic and the runner are imported where they are used: `zquant call` starts without them.


def _pick(names: str, known: dict[str, ServiceDefinition]) -> list[ServiceDefinition]:
    if names == "all":
        return list(known.values())
    chosen = []
    for name in names.split(","):
        if name not in known:
            raise SystemExit(f"unknown service {name!r}; known: {', '.join(known)} or 'all'")
        chosen.append(known[name])
    return chosen


def _db(args: argparse.Namespace, settings: Settings, known: dict[str, ServiceDefinition]) -> None:
    from zquant_kit.persistence import migrations

    for definition in _pick(args.service, known):
        url = settings.database_url(definition.name)
        if args.action == "upgrade":
            _create_database_if_missing(url)
            asyncio.run(
                migrations.upgrade(definition.migrations, url, definition.schema, args.revision or "head")
            )
            print(f"{definition.name}: upgraded to {args.revision or 'head'}")
        elif args.action == "downgrade":
            if not args.revision:
                raise SystemExit("downgrade needs a revision (e.g. base or -1)")
            asyncio.run(migrations.downgrade(definition.migrations, url, definition.schema, args.revision))
            print(f"{definition.name}: downgraded to {args.revision}")
        elif args.action == "current":
            have = asyncio.run(migrations.current(definition.migrations, url, definition.schema))
            want = migrations.head(definition.migrations)
            state = (
                "up to date"
                if have == want
                else f"behind (head is {want}): run `zquant db upgrade {definition.name}`"
            )
            print(f"{definition.name}: {have or 'empty'} {state}")


def _backup(args: argparse.Namespace, settings: Settings, known: dict[str, ServiceDefinition]) -> None:
    """SQLite online backup API: consistent while services keep writing. Backups are 0600 in a 0700 folder."""
    from sqlalchemy.engine import make_url

    from zquant_kit.persistence.engine import is_sqlite, normalize_url

    target = private_dir(Path(args.path))
    for definition in _pick(args.service, known):
        url = normalize_url(settings.database_url(definition.name))
        if not is_sqlite(url):
            print(f"{definition.name}: PostgreSQL — use pg_dump -n {definition.schema}", file=sys.stderr)
            continue
        source = sqlite3.connect(make_url(url).database or ":memory:")
        destination = sqlite3.connect(private_file(target / f"{definition.name}.db"))
        with destination:
            source.backup(destination)
        destination.close()
        source.close()
        print(f"{definition.name}: backed up to {target / f'{definition.name}.db'}")


def _create_database_if_missing(url: str) -> None:
    """`zquant db upgrade` and `make up-dist` on a fresh machine: the PostgreSQL database may not exist yet."""
    import psycopg
    from sqlalchemy.engine import make_url

    from zquant_kit.persistence.engine import normalize_url

    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{parsed.database}"')
            print(f"created PostgreSQL database {parsed.database}")


def _serve_dist(settings: Settings, known: dict[str, ServiceDefinition]) -> None:
    """Distributed mode on one machine: a process per service, PostgreSQL + NATS from the environment."""
    env = dict(os.environ)
    env.setdefault("ZQUANT_NATS_URL", "nats://127.0.0.1:4222")
    env["ZQUANT_EVENT_BUS"] = "nats"
    for name in known:
        key = f"ZQUANT_{name.upper()}_DATABASE_URL"
        env.setdefault(key, "postgresql+psycopg://postgres@127.0.0.1:5432/zquant")
    for name in known:
        _create_database_if_missing(env[f"ZQUANT_{name.upper()}_DATABASE_URL"])
    zquant = [sys.executable, "-m", "zquant_kit.cli"]
    subprocess.run([*zquant, "db", "upgrade", "all"], env=env, check=True)
    processes = [subprocess.Popen([*zquant, "serve", name], env=env) for name in known]
    try:
        for process in processes:
            process.wait()
    except KeyboardInterrupt:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="zquant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run services: a name, a comma list, or 'all' (all-in-one)")
    serve.add_argument("service", nargs="?", default="all")
    sub.add_parser("serve-dist", help="one process per service on PostgreSQL + NATS")
    db = sub.add_parser("db", help="database migrations and backups")
    db.add_argument("action", choices=["upgrade", "downgrade", "current", "backup"])
    db.add_argument("service", nargs="?", default="all")
    db.add_argument("revision", nargs="?", default="", help="target revision; for backup: the folder")
    db.epilog = "backup: zquant db backup [SERVICE|all] DIR (SQLite online backup API)"
    sub.add_parser("services", help="list installed services")
    register_call(sub)
    argv = sys.argv[1:] if argv is None else argv
    client_only = bool(argv) and argv[0] in CLIENT_COMMANDS
    # Services add their own sub-commands (e.g. `zquant data load-csv`) through this entry point group;
    # a client command needs none of them, and loading them would cost it seconds of imports.
    for entry in () if client_only else entry_points(group="zquant.commands"):
        entry.load()(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("ZQUANT_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s"
    )
    redaction.install()
    settings = Settings()
    if hasattr(args, "handler"):
        args.handler(args, settings)
        return
    known = discover()
    if args.command == "serve":
        from zquant_kit.runner import serve_until_signalled

        asyncio.run(serve_until_signalled(_pick(args.service, known), settings))
    elif args.command == "serve-dist":
        _serve_dist(settings, known)
    elif args.command == "db" and args.action == "backup":
        if not args.revision:  # `zquant db backup PATH`: every service
            args.service, args.revision = "all", args.service
        if args.revision == "all":
            raise SystemExit("usage: zquant db backup [SERVICE|all] PATH")
        args.path = args.revision
        _backup(args, settings, known)
    elif args.command == "db":
        _db(args, settings, known)
    elif args.command == "services":
        for name in known:
            print(f"{name:<11} port {settings.port(name)}  {settings.database_url(name)}")


if __name__ == "__main__":
    main()
