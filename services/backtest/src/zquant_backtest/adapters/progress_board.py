"""Progress and cancellation between the service and a worker process: four little-endian int64 slots in a
small memory-mapped file (days done, days in all, the current day as days since 1970-01-01, cancel flag).

Both sides map the same file; the worker writes progress and reads the flag once per day, the service polls
progress and sets the flag. No queue, no pickle, nothing the service has to trust beyond four integers.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np

DONE, TOTAL, CURRENT, CANCEL = range(4)
EPOCH = date(1970, 1, 1)


class ProgressBoard:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._slots = np.memmap(path, dtype="<i8", mode="r+", shape=(4,))

    @classmethod
    def create(cls, path: Path) -> ProgressBoard:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            out.write(bytes(4 * 8))
        return cls(path)

    def report(self, done: int, total: int, current: date) -> None:
        self._slots[TOTAL] = total
        self._slots[CURRENT] = (current - EPOCH).days
        self._slots[DONE] = done

    def progress(self) -> tuple[float, date | None]:
        """(percent, current day); the day is None before the first report."""
        done, total, current = (int(self._slots[i]) for i in (DONE, TOTAL, CURRENT))
        if total <= 0:
            return 0.0, None
        return min(100.0, 100.0 * done / total), date.fromordinal(EPOCH.toordinal() + current)

    def cancel(self) -> None:
        self._slots[CANCEL] = 1

    @property
    def cancelled(self) -> bool:
        return bool(self._slots[CANCEL])

    def remove(self) -> None:
        del self._slots
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
