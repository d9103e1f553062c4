"""Large numpy arrays between a process and its worker processes through shared memory instead of the pipe.

Through `WorkerProcesses.run` an array argument is pickled into each call, written through the pool's pipe and
unpickled by the worker, and the results come back the same way, the parent's result thread holding the GIL
while it reads and unpickles them. Here the arrays are copied once into a segment (a file of /dev/shm, the
tmpfs of POSIX shared memory on Linux) and only a small descriptor of plain tuples crosses the pipe; the other
side maps the segment. One segment of inputs can serve any number of calls.

The parent owns every segment: it creates them (`reserve`, `published`) and removes them (`release`), also the
one a worker writes its outputs to, so each is released exactly once whatever happens: the call raises, the
awaiting task is cancelled, the worker dies. A worker only opens names that exist: once the parent has given up
on a call, its output name is gone and a worker still running it cannot leave a segment behind. Segments are
registered with multiprocessing's resource tracker, which removes them if the parent dies (the fork server's
workers share the parent's tracker). A mapping lives as long as any array viewing it, so a name can be released
as soon as it is mapped: the memory goes with the last view.

A full /dev/shm (Docker's and Kubernetes' default is 64 MB) fails the write with `OSError` (ENOSPC, the space
is allocated before it is written), not with a SIGBUS on a later page.
"""

from __future__ import annotations

import mmap
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

SEGMENTS = Path("/dev/shm")
SEGMENT_PREFIX = "zquant_"
ALIGNMENT = 64
"""Every array starts on a cache line (and on any dtype's alignment)."""

Arrays = dict[str, np.ndarray]
SharedFunction = Callable[..., tuple[Mapping[str, np.ndarray], Any]]
"""`function(arrays, *args) -> (arrays, rest)`: a module-level function, so it pickles to a worker."""
Run = Callable[..., Awaitable[Any]]
"""`WorkerProcesses.run`, or anything awaiting `function(*args)` the same way (inline in tests)."""


class ArraySlot(NamedTuple):
    name: str
    dtype: str
    shape: tuple[int, ...]
    offset: int


class SharedArrays(NamedTuple):
    """Where a dict of arrays lies in a segment: what crosses the pipe instead of the arrays."""

    segment: str
    size: int
    slots: tuple[ArraySlot, ...]


def reserve() -> str:
    """A new empty segment's name, owned by the caller until it calls `release`."""
    segment = f"{SEGMENT_PREFIX}{secrets.token_hex(8)}"
    os.close(os.open(SEGMENTS / segment, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    resource_tracker.register(_tracked(segment), "shared_memory")
    return segment


def release(segment: str) -> None:
    """Removes the segment's name; the memory goes with the last mapping of it."""
    with suppress(FileNotFoundError):
        os.unlink(SEGMENTS / segment)
    resource_tracker.unregister(_tracked(segment), "shared_memory")


def write(arrays: Mapping[str, np.ndarray], segment: str) -> SharedArrays:
    """Copies `arrays` (any layout) into the existing `segment`, sized for them, each C-contiguous.
    `FileNotFoundError` if its owner has released it."""
    slots, size = _layout(arrays)
    fd = os.open(SEGMENTS / segment, os.O_RDWR)
    try:
        if size:
            os.posix_fallocate(fd, 0, size)
            with mmap.mmap(fd, size) as mapped:
                for slot, array in zip(slots, arrays.values(), strict=True):
                    np.copyto(_view(mapped, slot), array, casting="no")
    finally:
        os.close(fd)
    return SharedArrays(segment, size, slots)


def attach(shared: SharedArrays, writable: bool = False) -> Arrays:
    """Views of the segment's arrays, which keep it mapped. Read-only, or writable copy-on-write: what one
    process writes stays its own."""
    if not shared.size:
        return {slot.name: _empty(slot, writable) for slot in shared.slots}
    fd = os.open(SEGMENTS / shared.segment, os.O_RDONLY)
    try:
        mapped = mmap.mmap(fd, shared.size, access=mmap.ACCESS_COPY if writable else mmap.ACCESS_READ)
    finally:
        os.close(fd)
    return {slot.name: _view(mapped, slot) for slot in shared.slots}


@contextmanager
def published(arrays: Mapping[str, np.ndarray]) -> Iterator[SharedArrays]:
    """`arrays` in a new segment for the block, released however the block ends."""
    segment = reserve()
    try:
        yield write(arrays, segment)
    finally:
        release(segment)


def run_shared(
    function: SharedFunction, inputs: SharedArrays, output: str, *args: Any
) -> tuple[SharedArrays, Any]:
    """In the worker: `function(inputs' arrays, *args)`, its arrays written to the `output` segment, the rest
    returned as is (pickled: keep it small). The inputs are mapped copy-on-write: they look like any other
    writable array to compiled kernels (numba types a read-only array apart and compiles it again)."""
    outputs, rest = function(attach(inputs, writable=True), *args)
    return write(outputs, output), rest


async def call_shared(
    run: Run, function: SharedFunction, inputs: SharedArrays, *args: Any
) -> tuple[Arrays, Any]:
    """`function(inputs' arrays, *args)` through `run`: its arrays mapped back (writable, not copied) from a
    segment reserved for the call and released when it ends, returns, raises, is cancelled or its worker dies."""
    output = reserve()
    try:
        shared, rest = await run(run_shared, function, inputs, output, *args)
        return attach(shared, writable=True), rest
    finally:
        release(output)


def _layout(arrays: Mapping[str, np.ndarray]) -> tuple[tuple[ArraySlot, ...], int]:
    slots, size = [], 0
    for name, array in arrays.items():
        dtype = array.dtype
        if dtype.hasobject or np.dtype(dtype.str) != dtype:
            raise TypeError(f"{name}: {dtype} is not a plain dtype (objects and fields do not map)")
        slots.append(ArraySlot(name, dtype.str, array.shape, size))
        size += -(-array.nbytes // ALIGNMENT) * ALIGNMENT
    return tuple(slots), size


def _view(mapped: mmap.mmap, slot: ArraySlot) -> np.ndarray:
    return np.ndarray(slot.shape, np.dtype(slot.dtype), buffer=mapped, offset=slot.offset)


def _empty(slot: ArraySlot, writable: bool) -> np.ndarray:
    array = np.empty(slot.shape, np.dtype(slot.dtype))
    array.flags.writeable = writable
    return array


def _tracked(segment: str) -> str:
    """The segment's name for the resource tracker, which removes it with `shm_unlink` (a leading slash)."""
    return f"/{segment}"
