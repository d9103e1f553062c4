"""Escape attempts that got through in-language guards: each must end the run failed, with a reason."""

from __future__ import annotations

import socket

import pytest

from .conftest import failure_of, mismatches

pytestmark = pytest.mark.sandbox

SIGSYS = "forbidden system call"

CASES = {
    "ctypes_system": ("import numpy as np\nnp.ctypeslib.ctypes.CDLL(None).system(b'id')", SIGSYS),
    "f2py_os_system": ("import numpy as np\nnp.f2py.os.system('id')", SIGSYS),
    "statistics_sys_modules": ("import statistics\nstatistics.sys.modules['os'].system('id')", SIGSYS),
    "generator_frames": (
        "def g():\n    yield gen.gi_frame.f_back\ngen = g()\nframe = next(gen)\n"
        "while frame.f_back is not None:\n    frame = frame.f_back\n"
        "frame.f_globals['sys'].modules['os'].system('id')",
        SIGSYS,
    ),
    "memmap_read": ("import numpy as np\nnp.memmap('/etc/passwd', mode='r')", "Error"),
    "memmap_write": ("import numpy as np\nnp.memmap('/tmp/x', mode='w+', shape=(8,))", "Error"),
    "to_csv": ("import pandas as pd\npd.DataFrame({'a': [1]}).to_csv('/tmp/out.csv')", "Error"),
    "import_os": ("import os\nos.system('id')", SIGSYS),
    "import_subprocess": ("import subprocess\nsubprocess.run(['id'])", SIGSYS),
    "import_socket": ("import socket\nsocket.socket()", SIGSYS),
    "subclasses_walk": (
        "w = [c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == '_wrap_close'][0]\n"
        "w.__init__.__globals__['system']('id')",
        SIGSYS,
    ),
    "open_passwd": ("open('/etc/passwd').read()", "Error"),
    "fork_bomb": ("import os\nwhile True:\n    os.fork()", SIGSYS),
    "infinite_loop": ("while True:\n    pass", "deadline exceeded"),
    "sleep_forever": ("import time\ntime.sleep(10 ** 6)", "deadline exceeded"),
    "memory_bomb": ("blob = bytearray(4 << 30)", "MemoryError"),
    "gigabyte_of_output": ("for _ in range(1 << 20):\n    print('x' * 1024)", "output limit exceeded"),
    "segfault": ("import ctypes\nctypes.string_at(0)", "segmentation fault"),
}


def _in_handle_bar(body: str) -> str:
    indented = "\n".join("    " + line for line in body.splitlines())
    return f"def handle_bar(context, bars):\n{indented}\n"


def test_every_attempt_fails_the_run_with_its_reason() -> None:
    cases = {name: (_in_handle_bar(body), expected) for name, (body, expected) in CASES.items()}
    assert mismatches(cases) == {}


def test_read_csv_of_own_environ_shows_no_secret(canary_env: str) -> None:
    code = _in_handle_bar("import pandas as pd\nraise RuntimeError(str(pd.read_csv('/proc/self/environ')))")
    reason = failure_of(code)
    assert canary_env not in reason and "ZQUANT" not in reason, reason


def test_read_csv_over_http_never_connects() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        port = server.getsockname()[1]
        reason = failure_of(_in_handle_bar(f"import pandas as pd\npd.read_csv('http://127.0.0.1:{port}/x')"))
        with pytest.raises(BlockingIOError):
            server.accept()
    assert SIGSYS in reason, reason


def test_format_string_attribute_walk_reaches_no_secret(canary_env: str) -> None:
    body = "raise RuntimeError('{0.__globals__[np].f2py.os.environ}'.format(handle_bar))"
    reason = failure_of(_in_handle_bar(body))
    assert "RuntimeError: environ(" in reason and canary_env not in reason and "ZQUANT" not in reason, reason
