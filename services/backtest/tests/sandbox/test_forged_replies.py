"""The child can write anything on its reply pipe: forged frames are validated and fail the run."""

from __future__ import annotations

import pytest

from .conftest import mismatches

pytestmark = pytest.mark.sandbox

# The reply pipe is one of the low descriptors; write the forged frame to every one that accepts it,
# then stall so the parent reads the forgery before any genuine reply.
FORGE = '''import os, time, struct, msgpack
def handle_bar(context, bars):
    frame = {frame}
    for fd in range(3, 12):
        try:
            os.write(fd, frame)
        except OSError:
            pass
    time.sleep(0.5)
'''

FORGERIES = {
    "huge_length": ("struct.pack('<I', 0x7fffffff)", "reply too large"),
    "unknown_code": ("(lambda b: struct.pack('<I', len(b)) + b)(msgpack.packb({'t': 'orders', 'o': [[10**6, 0, 1.0]]}))",
                     "unknown code index"),
    "nan_amount": ("(lambda b: struct.pack('<I', len(b)) + b)(msgpack.packb({'t': 'orders', 'o': [[0, 0, float('nan')]]}))",
                   "not a finite number"),
    "unknown_kind": ("(lambda b: struct.pack('<I', len(b)) + b)(msgpack.packb({'t': 'orders', 'o': [[0, 9, 1.0]]}))",
                     "unknown order kind"),
    "pickle_payload": ("(lambda b: struct.pack('<I', len(b)) + b)(__import__('pickle').dumps(os.system))",
                       "invalid reply"),
}


def test_every_forged_reply_fails_the_run() -> None:
    cases = {name: (FORGE.format(frame=expression), expected) for name, (expression, expected) in FORGERIES.items()}
    assert mismatches(cases) == {}
