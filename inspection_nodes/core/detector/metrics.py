"""Detection mAP: greedy matching by confidence, all-point interpolated AP (VOC2010+/COCO style).

Per class, predictions of every image are ranked by confidence; each one matches the
highest-IoU ground-truth box of that class in its image that no better prediction took, if the
IoU reaches the threshold (a true positive), else it is a false positive. AP is the area under
the precision-recall curve after making precision monotonically non-increasing, summed at every
recall step (all points, no 11- or 101-point sampling). mAP averages over the classes that have
ground truth (a class absent from the data set is left out, not counted as 0 or 1); mAP50-95
averages mAP over the IoU thresholds 0.50, 0.55, ..., 0.95.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IOU_THRESHOLDS = np.round(np.linspace(0.5, 0.95, 10), 2)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes (N, 4) and (M, 4), x1 y1 x2 y2 -> (N, M)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0.0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """All-point interpolated area under a PR curve given in ranking order."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[1.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # envelope: best precision at recall >= r
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def match(
    pred_boxes: np.ndarray,
    pred_scores: np.ndarray,
    gt_boxes: np.ndarray,
    thresholds: np.ndarray = IOU_THRESHOLDS,
) -> np.ndarray:
    """True-positive flags (P, T) of one image and one class, predictions in descending score.

    Each threshold is matched independently: a ground-truth box is used at most once.
    """
    order = np.argsort(-np.asarray(pred_scores), kind="stable")
    tp = np.zeros((len(order), len(thresholds)), dtype=bool)
    if len(gt_boxes) == 0 or len(order) == 0:
        return tp
    iou = box_iou(np.asarray(pred_boxes)[order], gt_boxes)
    for t, threshold in enumerate(thresholds):
        taken = np.zeros(len(gt_boxes), dtype=bool)
        for i in range(len(order)):
            candidates = np.where(taken, -1.0, iou[i])
            j = int(candidates.argmax())
            if candidates[j] >= threshold:
                taken[j] = True
                tp[i, t] = True
    return tp


@dataclass
class DetectionEvaluator:
    """Accumulates images, then `result()` gives mAP50, mAP50-95 and per-class AP."""

    class_names: list[str]
    thresholds: np.ndarray = field(default_factory=lambda: IOU_THRESHOLDS.copy())
    _scores: list[list[np.ndarray]] = field(init=False)
    _tp: list[list[np.ndarray]] = field(init=False)
    _n_gt: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.class_names)
        self._scores = [[] for _ in range(n)]
        self._tp = [[] for _ in range(n)]
        self._n_gt = np.zeros(n, dtype=np.int64)

    def add(
        self,
        pred_boxes: np.ndarray,
        pred_scores: np.ndarray,
        pred_classes: np.ndarray,
        gt_boxes: np.ndarray,
        gt_classes: np.ndarray,
    ) -> None:
        """One image: predictions (P, 4), (P,), (P,) and ground truth (G, 4), (G,)."""
        pred_boxes = np.asarray(pred_boxes, dtype=np.float64).reshape(-1, 4)
        pred_scores = np.asarray(pred_scores, dtype=np.float64).reshape(-1)
        pred_classes = np.asarray(pred_classes, dtype=np.int64).reshape(-1)
        gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
        gt_classes = np.asarray(gt_classes, dtype=np.int64).reshape(-1)
        n = len(self.class_names)
        for values, what in ((pred_classes, "prediction"), (gt_classes, "ground truth")):
            if values.size and (values.min() < 0 or values.max() >= n):
                raise ValueError(f"{what} class outside 0..{n - 1}")
        for c in np.union1d(pred_classes, gt_classes):
            p, g = pred_classes == c, gt_classes == c
            scores = np.sort(pred_scores[p])[::-1]
            self._tp[c].append(match(pred_boxes[p], pred_scores[p], gt_boxes[g], self.thresholds))
            self._scores[c].append(scores)
            self._n_gt[c] += int(g.sum())

    def class_ap(self, c: int) -> np.ndarray:
        """AP of class c at every threshold (T,); NaN when the class has no ground truth."""
        if self._n_gt[c] == 0:
            return np.full(len(self.thresholds), np.nan)
        if not self._scores[c]:
            return np.zeros(len(self.thresholds))
        scores = np.concatenate(self._scores[c])
        tp = np.concatenate(self._tp[c]).astype(np.float64)
        order = np.argsort(-scores, kind="stable")
        tp_cum = np.cumsum(tp[order], axis=0)
        fp_cum = np.cumsum(1.0 - tp[order], axis=0)
        recall = tp_cum / self._n_gt[c]
        precision = tp_cum / (tp_cum + fp_cum)
        return np.array(
            [average_precision(recall[:, t], precision[:, t]) for t in range(len(self.thresholds))]
        )

    def result(self) -> dict:
        """{"map50", "map50_95", "per_class_ap50", "per_class_ap50_95", "gt_per_class"}.

        Classes without ground truth appear with AP None and do not enter the means.
        """
        ap = np.stack([self.class_ap(c) for c in range(len(self.class_names))])
        present = ~np.isnan(ap[:, 0])
        if not present.any():
            raise ValueError("no ground-truth boxes: mAP is undefined")
        at50 = int(np.flatnonzero(np.isclose(self.thresholds, 0.5))[0])

        def per_class(values: np.ndarray) -> dict[str, float | None]:
            return {
                name: None if np.isnan(v) else float(v)
                for name, v in zip(self.class_names, values, strict=True)
            }

        return {
            "map50": float(ap[present, at50].mean()),
            "map50_95": float(ap[present].mean()),
            "per_class_ap50": per_class(ap[:, at50]),
            "per_class_ap50_95": per_class(ap.mean(axis=1)),
            "gt_per_class": dict(zip(self.class_names, self._n_gt.tolist(), strict=True)),
        }
