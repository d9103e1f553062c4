"""What a write did, in a module without I/O imports, so a service's ports can name it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WriteCounts:
    """What one write did to the stored rows; the three add up to the rows written."""

    inserted: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


NOTHING_WRITTEN = WriteCounts(inserted=0, updated=0, unchanged=0)
