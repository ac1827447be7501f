"""The units a recalibration is built from: the next N units the cell inspects.

The stability node sees each unit twice, as its ROI (`roi/image`) and as its patch embeddings
(`embedding/patches`), in any order; both are joined by capture stamp. A unit whose other half
never comes (rejected upstream) is dropped once the capture holds more than twice what it needs,
so a long capture cannot grow memory.

    capture = UnitCapture(units=50, deadline=time.monotonic() + 600)
    capture.add(stamp, roi=rgb)              # True once 50 complete units are there
    capture.add(stamp, name=unit_id, feats=patches)
    images, features, names = capture.take()
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class UnitCapture:
    """The next `units` units (ROI + embeddings joined by capture stamp) for a recalibration."""

    units: int
    deadline: float  # time.monotonic() by which the units must have arrived
    rois: dict[int, np.ndarray] = field(default_factory=dict)
    features: dict[int, np.ndarray] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.units < 1:
            raise ValueError(f"a capture needs at least 1 unit, got {self.units}")

    def complete(self) -> list[int]:
        """Stamps with both parts, oldest first."""
        return sorted(self.rois.keys() & self.features.keys())

    @property
    def full(self) -> bool:
        return len(self.complete()) >= self.units

    def expired(self, now: float) -> bool:
        """The deadline passed before the capture was full."""
        return now > self.deadline and not self.full

    def add(
        self,
        stamp: int,
        name: str = "",
        roi: np.ndarray | None = None,
        feats: np.ndarray | None = None,
    ) -> bool:
        """Keep one half of a unit (copies are the caller's job); True once the capture is full."""
        if roi is not None:
            self.rois[stamp] = roi
        if feats is not None:
            self.features[stamp] = feats
        if name:
            self.names[stamp] = name
        for part in (self.rois, self.features):
            while len(part) > 2 * self.units + 20:
                part.pop(min(part))
        return self.full

    def take(self) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
        """ROIs, stacked embeddings (N, h, w, C) and names of the first `units` complete units;
        a unit without a name is named by its stamp."""
        stamps = self.complete()[: self.units]
        images = [self.rois[s] for s in stamps]
        features = np.stack([self.features[s] for s in stamps])
        return images, features, [self.names.get(s, str(s)) for s in stamps]
