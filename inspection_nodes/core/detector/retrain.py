"""Retrain trigger: enough new confirmed labels -> train a candidate -> deploy only if not worse.

Confirmed labels (operator dispositions with a defect class, or a labelling tool) land in the
training split of a YOLO-layout dataset. Every model in the detector registry records the box
counts per class it was trained on, so "new labels since the last model" is the current count
minus the count of the newest registered model: no separate ledger can drift from the data.

When any class has gained `min_new_labels` (default 20) a `RetrainJob` is scheduled. Running it
trains a candidate with the injected trainer, then evaluates the candidate AND the deployed
model with the same injected evaluator on the same fixed validation split (the registry keeps
its hash), and deploys the candidate only if its mAP50 is not below the deployed model's minus
`tolerance` (0 by default: not worse). Either way the registry records the candidate with its
dataset hash, metrics, version and the decision. Trainer and evaluator are plain callables, so
the policy is tested with cheap fakes and the CLI plugs in real YOLO training.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from inspection_nodes.core.common.provenance import compact_stamp, utc_now
from inspection_nodes.core.detector.registry import DetectorRegistry, ModelStatus, load_model


@dataclass(frozen=True)
class RetrainPolicy:
    """When to retrain and when a candidate may replace the deployed model."""

    min_new_labels: int = 20
    tolerance: float = 0.0

    def validate(self) -> RetrainPolicy:
        if self.min_new_labels < 1:
            raise ValueError(f"min_new_labels={self.min_new_labels} must be >= 1")
        if not 0.0 <= self.tolerance < 1.0:
            raise ValueError(f"tolerance={self.tolerance} must be in [0, 1)")
        return self


@dataclass(frozen=True)
class RetrainJob:
    """A scheduled retrain: why (new labels per class) and on what (dataset and val hashes)."""

    job_id: str
    new_labels: dict[str, int]
    due_classes: tuple[str, ...]
    dataset_hash: str
    val_hash: str
    scheduled: str


class RetrainStatus(StrEnum):
    """What a retrain job ended with."""

    DEPLOYED = "deployed"  # the candidate replaced the deployed model
    REJECTED = "rejected"  # the candidate was worse; registered, not deployed
    FAILED = "failed"  # training or evaluation raised; nothing changed


@dataclass
class RetrainOutcome:
    """What a job did, and why."""

    job: RetrainJob
    status: RetrainStatus
    reason: str
    candidate: Path | None = None
    candidate_metrics: dict = field(default_factory=dict)
    deployed_metrics: dict | None = None


def new_label_counts(current: Mapping[str, int], baseline: Mapping[str, int]) -> dict[str, int]:
    """Labels gained per class since the baseline (removed labels count as 0, not negative)."""
    return {name: max(0, int(n) - int(baseline.get(name, 0))) for name, n in current.items()}


def due_classes(new_labels: Mapping[str, int], policy: RetrainPolicy) -> tuple[str, ...]:
    """Classes whose new-label count reached the policy's threshold, in dataset order."""
    return tuple(name for name, n in new_labels.items() if n >= policy.min_new_labels)


def decide(candidate_map50: float, deployed_map50: float | None, policy: RetrainPolicy) -> bool:
    """Deploy when there is no deployed model or the candidate is not worse (within tolerance)."""
    return deployed_map50 is None or candidate_map50 >= deployed_map50 - policy.tolerance


class RetrainTrigger:
    """Counts new labels against the registry, schedules jobs, runs them with injected callables."""

    def __init__(self, registry: DetectorRegistry, policy: RetrainPolicy | None = None) -> None:
        self.registry = registry
        self.policy = (policy or RetrainPolicy()).validate()

    def last_model(self) -> dict | None:
        """Newest registry entry of any status (the counting baseline)."""
        models = self.registry.read()["models"]
        return max(models, key=lambda e: e.get("created") or "", default=None)

    def check(
        self, counts: Mapping[str, int], dataset_hash: str, val_hash: str
    ) -> RetrainJob | None:
        """A job when a class gained enough labels since the last model; None otherwise.

        Data a registered model was already trained on never schedules a job (a rejected
        candidate is not retrained on the same data over and over).
        """
        models = self.registry.read()["models"]
        if any(e.get("dataset_hash") == dataset_hash for e in models):
            return None
        last = self.last_model()
        new = new_label_counts(counts, last.get("boxes_per_class", {}) if last else {})
        due = due_classes(new, self.policy)
        if not due:
            return None
        now = utc_now()
        return RetrainJob(
            job_id=f"retrain-{compact_stamp(now)}-{dataset_hash[:8]}",
            new_labels=new,
            due_classes=due,
            dataset_hash=dataset_hash,
            val_hash=val_hash,
            scheduled=now,
        )

    def run(
        self,
        job: RetrainJob,
        train: Callable[[RetrainJob], Path],
        evaluate: Callable[[Path], dict],
    ) -> RetrainOutcome:
        """Train a candidate, evaluate it and the deployed model on the fixed val split, decide.

        `train(job)` returns the candidate's model directory; `evaluate(model_dir)` returns at
        least {"map50", "map50_95"} on the validation split whose hash is `job.val_hash`.
        A trainer or evaluator exception gives status "failed" and leaves the deployment as is.
        """
        try:
            candidate = Path(train(job))
            candidate_metrics = evaluate(candidate)
            deployed = self.registry.deployed()
            deployed_metrics = evaluate(self.registry.resolve(deployed)) if deployed else None
        except Exception as exc:  # a failed job must never change what is deployed
            return RetrainOutcome(job, RetrainStatus.FAILED, f"{type(exc).__name__}: {exc}")
        old = None if deployed_metrics is None else float(deployed_metrics["map50"])
        new = float(candidate_metrics["map50"])
        deploy = decide(new, old, self.policy)
        reason = (
            "no deployed model"
            if old is None
            else f"mAP50 {new:.4f} {'>=' if deploy else '<'} deployed {old:.4f}"
            + (f" - tolerance {self.policy.tolerance:g}" if self.policy.tolerance else "")
        )
        self.registry.record(
            load_model(candidate),
            ModelStatus.DEPLOYED if deploy else ModelStatus.REJECTED,
            job_id=job.job_id,
            due_classes=list(job.due_classes),
            val_hash=job.val_hash,
            val_metrics={k: candidate_metrics[k] for k in ("map50", "map50_95")},
            compared_with=None
            if deployed is None
            else {"model_version": deployed.get("model_version"), "map50": old},
            reason=reason,
        )
        return RetrainOutcome(
            job,
            RetrainStatus.DEPLOYED if deploy else RetrainStatus.REJECTED,
            reason,
            candidate,
            candidate_metrics,
            deployed_metrics,
        )
