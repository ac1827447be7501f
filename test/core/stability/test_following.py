"""Version following as a state machine: which results count, which are ignored, when to
switch to the version the scoring node now runs."""

import pytest

from inspection_nodes.core.stability.following import FOLLOW_AFTER, Follow, VersionFollower


def _steps(follower: VersionFollower, versions: list[str]) -> list[Follow]:
    return [follower.observe(v) for v in versions]


def test_the_first_result_names_the_version_when_none_was_given():
    follower = VersionFollower()
    assert _steps(follower, ["v1", "v1"]) == [Follow.COUNT, Follow.COUNT]
    assert follower.version == "v1"


def test_a_new_version_is_followed_after_enough_results_in_a_row():
    follower = VersionFollower("v1")
    steps = _steps(follower, ["v2"] * FOLLOW_AFTER + ["v2"])
    assert steps == [Follow.IGNORE] * (FOLLOW_AFTER - 1) + [Follow.SWITCH, Follow.COUNT]
    assert follower.version == "v2"


def test_a_stray_result_of_another_version_resets_the_streak():
    follower = VersionFollower("v1", follow_after=3)
    steps = _steps(follower, ["v2", "v2", "v1", "v2", "v2", "v3", "v2"])
    assert Follow.SWITCH not in steps and follower.version == "v1"
    assert steps[2] is Follow.COUNT


def test_after_a_switch_the_old_versions_results_in_flight_are_ignored():
    follower = VersionFollower("v1", follow_after=2)
    follower.switch_to("v2")  # a recalibration switched the scoring node
    assert _steps(follower, ["v1", "v1", "v1"]) == [Follow.IGNORE] * 3  # never followed back
    assert follower.observe("v2") is Follow.COUNT
    # once v2 arrived, v1 is an ordinary other version again (a rollback is followed)
    assert _steps(follower, ["v1", "v1"]) == [Follow.IGNORE, Follow.SWITCH]


def test_follow_after_must_be_positive():
    with pytest.raises(ValueError, match=">= 1"):
        VersionFollower(follow_after=0)
