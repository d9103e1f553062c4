"""Helpers every zquant test suite shares; the fixtures live in `zquant_kit.testing.plugin`.

Tests run with `--import-mode=importlib`, so shared helpers come from this installed package,
not from imports of one conftest into another.
"""

from zquant_kit.testing.clock import FakeClock
from zquant_kit.testing.databases import (
    BACKENDS,
    PG_ADMIN_DSN,
    backend_database,
    conninfo,
    pg_url,
    psycopg_engine,
    throwaway_database,
)
from zquant_kit.testing.errors import ErrorDetails, detail, error_details, expect_error, status_detail
from zquant_kit.testing.fake_uow import (
    FakeDatabase,
    FakeDeletedUsers,
    FakeStore,
    FakeUnitOfWork,
    delete_where,
)
from zquant_kit.testing.nats import NATS_URL, OwnNatsServer, free_port, nats_settings
from zquant_kit.testing.nats_stacks import nats_stack
from zquant_kit.testing.pages import walk_pages
from zquant_kit.testing.paths import SHARED_DATA
from zquant_kit.testing.polling import eventually, refused_within, wait_serving
from zquant_kit.testing.principals import root_principal
from zquant_kit.testing.processes import ZQUANT_CLI, clean_env, serve, served_env, serving, upgrade_databases
from zquant_kit.testing.stack_settings import stack_settings
from zquant_kit.testing.stacks import StackClient, built_app, running_stack, services
from zquant_kit.testing.stored_events import processed_events, stored_event
from zquant_kit.testing.users import (
    ADMIN_PASSWORD,
    USER_PASSWORD,
    Metadata,
    StackUsers,
    admin_metadata,
    create_user,
    delete_user,
    login,
    sign_in,
)

__all__ = [
    "ADMIN_PASSWORD",
    "BACKENDS",
    "NATS_URL",
    "PG_ADMIN_DSN",
    "SHARED_DATA",
    "USER_PASSWORD",
    "ZQUANT_CLI",
    "ErrorDetails",
    "FakeClock",
    "FakeDatabase",
    "FakeDeletedUsers",
    "FakeStore",
    "FakeUnitOfWork",
    "Metadata",
    "OwnNatsServer",
    "StackClient",
    "StackUsers",
    "admin_metadata",
    "backend_database",
    "built_app",
    "clean_env",
    "conninfo",
    "create_user",
    "delete_user",
    "delete_where",
    "detail",
    "error_details",
    "eventually",
    "expect_error",
    "free_port",
    "login",
    "nats_settings",
    "nats_stack",
    "pg_url",
    "processed_events",
    "psycopg_engine",
    "refused_within",
    "root_principal",
    "running_stack",
    "serve",
    "served_env",
    "services",
    "serving",
    "sign_in",
    "stack_settings",
    "status_detail",
    "stored_event",
    "throwaway_database",
    "upgrade_databases",
    "wait_serving",
    "walk_pages",
]
