"""Retrain trigger with an injected fake trainer and evaluator (pure logic, no training)."""

import itertools
from pathlib import Path

import pytest

from inspection_nodes.core.detector.registry import DetectorRegistry, load_model, save_model
from inspection_nodes.core.detector.retrain import (
    RetrainPolicy,
    RetrainTrigger,
    decide,
    due_classes,
    new_label_counts,
)

CLASSES = ("open", "short")


class FakeCell:
    """A fake trainer writing model directories and an evaluator with scripted mAP50 values."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.map50: dict[str, float] = {}  # model dir name -> mAP50 on the fixed val split
        self.next_map50 = 0.0
        self.evaluated: list[str] = []
        self._clock = itertools.count()

    def train(self, job) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        onnx = self.root / "fake.onnx"
        onnx.write_bytes(b"not a network")
        out = self.root / job.job_id
        counts = self.counts
        save_model(
            out,
            onnx,
            None,
            {
                "architecture": "yolo11n",
                "class_names": list(CLASSES),
                "input_mode": "plain",
                "imgsz": 640,
                "created": f"2026-01-01T00:00:{next(self._clock):02d}Z",
                "dataset": {"hash": job.dataset_hash, "boxes_per_class": {"train": counts}},
            },
        )
        self.map50[out.name] = self.next_map50
        return out

    def evaluate(self, model_dir: Path) -> dict:
        self.evaluated.append(model_dir.name)
        value = self.map50[model_dir.name]
        return {"map50": value, "map50_95": value / 2}


@pytest.fixture
def cell(tmp_path: Path) -> tuple[RetrainTrigger, FakeCell]:
    registry = DetectorRegistry(tmp_path / "models" / "detector_registry.json")
    return RetrainTrigger(registry, RetrainPolicy(min_new_labels=20)), FakeCell(tmp_path / "models")


def step(trigger: RetrainTrigger, fake: FakeCell, counts: dict, data_hash: str, map50: float):
    """One periodic check with `counts` confirmed labels; runs the job if one is due."""
    fake.counts, fake.next_map50 = counts, map50
    job = trigger.check(counts, data_hash, "val-1")
    return None if job is None else trigger.run(job, fake.train, fake.evaluate)


def test_counts_and_policy_helpers() -> None:
    new = new_label_counts({"open": 30, "short": 5}, {"open": 10, "short": 9})
    assert new == {"open": 20, "short": 0}
    assert due_classes(new, RetrainPolicy()) == ("open",)
    assert due_classes(new, RetrainPolicy(min_new_labels=21)) == ()
    assert decide(0.9, None, RetrainPolicy()) and decide(0.9, 0.9, RetrainPolicy())
    assert not decide(0.89, 0.9, RetrainPolicy())
    assert decide(0.89, 0.9, RetrainPolicy(tolerance=0.02))
    for bad in (RetrainPolicy(min_new_labels=0), RetrainPolicy(tolerance=-0.1)):
        with pytest.raises(ValueError):
            bad.validate()


def test_first_model_once_a_class_reaches_the_threshold(cell) -> None:
    trigger, fake = cell
    assert step(trigger, fake, {"open": 19, "short": 3}, "d1", 0.5) is None
    outcome = step(trigger, fake, {"open": 20, "short": 3}, "d2", 0.5)
    assert outcome.status == "deployed" and outcome.reason == "no deployed model"
    assert outcome.job.due_classes == ("open",)
    entry = trigger.registry.deployed()
    assert entry["dataset_hash"] == "d2" and entry["val_hash"] == "val-1"
    assert entry["val_metrics"] == {"map50": 0.5, "map50_95": 0.25}
    assert entry["model_version"] == load_model(outcome.candidate).version
    assert entry["boxes_per_class"] == {"open": 20, "short": 3}


def test_counts_since_the_last_model_and_deploy_only_if_not_worse(cell) -> None:
    trigger, fake = cell
    first = step(trigger, fake, {"open": 20, "short": 0}, "d1", 0.80)
    # the same data never retrains; 19 new labels per class are not enough
    assert step(trigger, fake, {"open": 20, "short": 0}, "d1", 0.99) is None
    assert step(trigger, fake, {"open": 39, "short": 19}, "d2", 0.99) is None
    # 20 new "short" labels: candidate worse -> rejected, the first model stays deployed
    worse = step(trigger, fake, {"open": 39, "short": 20}, "d3", 0.79)
    assert worse.status == "rejected" and "0.7900 < deployed 0.8000" in worse.reason
    assert fake.evaluated[-2:] == [worse.candidate.name, first.candidate.name]  # same val split
    assert trigger.registry.deployed()["path"].endswith(first.candidate.name)
    # counting restarts at the rejected candidate too (it is the last model)
    assert step(trigger, fake, {"open": 58, "short": 39}, "d4", 0.9) is None
    equal = step(trigger, fake, {"open": 59, "short": 39}, "d5", 0.80)
    assert equal.status == "deployed"  # not worse is enough
    statuses = {e["path"].split("/")[-1]: e["status"] for e in trigger.registry.read()["models"]}
    assert statuses == {
        first.candidate.name: "retired",
        worse.candidate.name: "rejected",
        equal.candidate.name: "deployed",
    }


def test_a_failing_trainer_changes_nothing(cell) -> None:
    trigger, fake = cell
    step(trigger, fake, {"open": 20, "short": 0}, "d1", 0.8)
    before = trigger.registry.read()
    job = trigger.check({"open": 40, "short": 0}, "d2", "val-1")

    def broken(job):
        raise RuntimeError("out of memory")

    outcome = trigger.run(job, broken, fake.evaluate)
    assert outcome.status == "failed" and "out of memory" in outcome.reason
    assert trigger.registry.read() == before
