"""Which model version the stability window belongs to, as the scoring node switches versions.

The scoring node can change model version at run time (a recalibration, a rollback, a manual
`ros2 param set`). The stability node must then start a new window for the new version, but
results of the old version may still be in flight, and a single stray result of another version
must not throw the window away. The rule:

- results of the followed version are counted;
- results of the version just left are ignored until the new version's first result arrives;
- another version is followed once `follow_after` of its results came in a row (the caller then
  starts a new window with that version's baseline and counts the result).

    follower = VersionFollower()
    step = follower.observe(result.model_version)   # Follow.COUNT / IGNORE / SWITCH
"""

from __future__ import annotations

from enum import Enum

FOLLOW_AFTER = 3  # consecutive results of another model version before the monitor follows it


class Follow(Enum):
    """What to do with one result."""

    COUNT = "count"  # the followed version: add it to the window
    IGNORE = "ignore"  # another version (in flight from the old one, or not yet followed)
    SWITCH = "switch"  # a new version is followed from this result on: new window, then count


class VersionFollower:
    """The version-following state machine (module docstring). Pure logic, no clock."""

    def __init__(self, version: str = "", follow_after: int = FOLLOW_AFTER) -> None:
        if follow_after < 1:
            raise ValueError(f"follow_after must be >= 1, got {follow_after}")
        self.follow_after = follow_after
        self._version = version
        self._left = ""  # version switched away from whose results may still be in flight
        self._other = ("", 0)  # another version seen, how many results of it in a row

    @property
    def version(self) -> str:
        """The followed version ("" until the first result when none was given)."""
        return self._version

    def observe(self, version: str) -> Follow:
        """Classify the next result by its model version (updates the state)."""
        self._version = self._version or version
        if version == self._version:
            self._left, self._other = "", ("", 0)  # the old version's results are through
            return Follow.COUNT
        if version == self._left:
            return Follow.IGNORE
        seen = self._other[1] + 1 if self._other[0] == version else 1
        self._other = (version, seen)
        if seen < self.follow_after:
            return Follow.IGNORE
        self._version, self._left, self._other = version, "", ("", 0)
        return Follow.SWITCH

    def switch_to(self, version: str) -> None:
        """Follow `version` from now on (a recalibration switched the scoring node to it); the
        left version's results still in flight are ignored until `version`'s first result."""
        self._left, self._version, self._other = self._version, version, ("", 0)
