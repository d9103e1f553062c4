"""Market panels kept on disk between runs, shared by the service and its worker processes.

One directory per key under the cache root: ``meta.json`` (axes, dtypes, offsets) and ``arrays.bin`` (the
panel's arrays as raw little-endian bytes, back to back). A panel is written into a private temporary directory
and renamed into place, so readers see a whole entry or none; readers memory-map the arrays read-only, so
runs on the same data share one copy in the page cache and nothing is ever unpickled. The key is the data
version (advanced by ``marketdata.sync.completed.v1``), the universe, the dates and the fields; the size is
bounded in bytes, least recently used entries going first (use is the mtime of ``meta.json``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from zquant_backtest.application.run_ports import RunConfig
from zquant_backtest.domain.market import MarketPanel

META, ARRAYS = "meta.json", "arrays.bin"
ARRAY_FIELDS = tuple(
    item.name
    for item in fields(MarketPanel)
    if item.init and item.name not in ("codes", "dividends", "industries")
)
"""The panel's array fields (``dates`` … ``benchmark_close``); an optional one absent from an entry is None."""
ALIGN = 64


def panel_key(data_version: str, config: RunConfig, panel_fields: tuple[str, ...]) -> str:
    universe = {"codes": list(config.codes), "index": config.index_code or ""}
    parts = {
        "data_version": data_version,
        "universe": universe,
        "start": config.start.isoformat(),
        "end": config.end.isoformat(),
        "benchmark": config.benchmark or "",
        "fields": list(panel_fields),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class PanelCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def contains(self, key: str) -> bool:
        """A hit counts as a use: it is the least likely entry to be evicted next."""
        meta = self.root / key / META
        try:
            os.utime(meta)
        except FileNotFoundError:
            return False
        return True

    def open(self, key: str) -> MarketPanel | None:
        """The entry's panel over read-only memory maps, or None when it is not (or no longer) cached."""
        entry = self.root / key
        try:
            meta = json.loads((entry / META).read_text())
            path = entry / ARRAYS
            arrays: dict[str, Any] = {name: _mapped(path, spec) for name, spec in meta["arrays"].items()}
        except FileNotFoundError:
            return None
        industries = tuple(meta["industries"]) if meta["industries"] is not None else None
        return MarketPanel(
            dates=arrays["dates"],
            codes=tuple(meta["codes"]),
            open=arrays["open"],
            high=arrays["high"],
            low=arrays["low"],
            close=arrays["close"],
            pre_close=arrays["pre_close"],
            volume=arrays["volume"],
            amount=arrays["amount"],
            adj_factor=arrays["adj_factor"],
            up_limit=arrays["up_limit"],
            down_limit=arrays["down_limit"],
            is_st=arrays["is_st"],
            is_suspended=arrays["is_suspended"],
            list_days=arrays["list_days"],
            members=arrays.get("members"),
            industries=industries,
            benchmark_close=arrays.get("benchmark_close"),
        )

    def put(self, key: str, panel: MarketPanel) -> None:
        """Writes the entry unless another process already did, then evicts down to the size bound."""
        if panel.dividends:
            raise ValueError("the panel cache keeps no dividend rows")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".tmp-{key}-{os.getpid()}-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            _write_entry(staging, panel)
            try:
                staging.rename(self.root / key)
            except OSError:  # another writer won the race: its entry is the same panel
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.evict(keep=key)

    def size(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def evict(self, keep: str | None = None) -> list[str]:
        """Least recently used first until the entries fit ``max_bytes``; ``keep`` stays whatever its size.
        An evicted entry is renamed away before it is deleted, so a reader has it whole or gets a miss; a
        reader that already mapped its arrays keeps them (the file lives until the last map closes)."""
        entries = sorted(self._entries(), key=lambda entry: entry[2])
        total = sum(size for _, size, _ in entries)
        evicted = []
        for key, size, _ in entries:
            if total <= self.max_bytes:
                break
            if key == keep:
                continue
            doomed = self.root / f".evict-{key}-{secrets.token_hex(4)}"
            with contextlib.suppress(FileNotFoundError):
                (self.root / key).rename(doomed)
                shutil.rmtree(doomed, ignore_errors=True)
                evicted.append(key)
            total -= size
        return evicted

    def _entries(self) -> list[tuple[str, int, float]]:
        """(key, bytes, last use) of every whole entry."""
        found: list[tuple[str, int, float]] = []
        if not self.root.exists():
            return found
        for entry in self.root.iterdir():
            if entry.name.startswith("."):
                continue
            with contextlib.suppress(FileNotFoundError):
                used = (entry / META).stat().st_mtime
                found.append((entry.name, (entry / ARRAYS).stat().st_size, used))
        return found


def _write_entry(directory: Path, panel: MarketPanel) -> None:
    specs: dict[str, dict[str, object]] = {}
    offset = 0
    with open(directory / ARRAYS, "wb") as out:
        for name in ARRAY_FIELDS:
            values = getattr(panel, name)
            if values is None:
                continue
            little = np.ascontiguousarray(values, dtype=_little_endian(values.dtype))
            out.write(b"\0" * (-offset % ALIGN))
            offset += -offset % ALIGN
            specs[name] = {"dtype": little.dtype.str, "shape": list(little.shape), "offset": offset}
            out.write(little.tobytes())
            offset += little.nbytes
        out.flush()
        os.fsync(out.fileno())
    meta = {
        "codes": list(panel.codes),
        "industries": list(panel.industries) if panel.industries is not None else None,
        "arrays": specs,
    }
    (directory / META).write_text(json.dumps(meta))


def _mapped(path: Path, spec: dict[str, Any]) -> np.ndarray:
    shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
    if 0 in shape:  # an empty array has no bytes to map
        return np.empty(shape, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=spec["offset"], shape=shape)


def _little_endian(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
