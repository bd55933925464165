"""AP50 (pycocotools COCOeval) and the VOC cross-check on hand-computed cases; CenterNet decode."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.codenet import centernet, metrics


def _gt():
    boxes = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([[5, 5, 15, 15]], float)]
    labels = [np.array([0, 0]), np.array([0])]
    return boxes, labels


def _det(rows):
    return {
        "boxes": np.array([r[0] for r in rows], float).reshape(-1, 4),
        "scores": np.array([r[1] for r in rows], float),
        "labels": np.array([r[2] for r in rows], int),
    }


def test_perfect_detections_score_one():
    boxes, labels = _gt()
    dets = [_det([(b, 0.9, 0) for b in boxes[0]]), _det([(boxes[1][0], 0.8, 0)])]
    assert metrics.voc_ap50(dets, boxes, labels, 1) == pytest.approx(1.0)
    assert metrics.coco_ap50(dets, boxes, labels, 1) == pytest.approx(1.0)


def test_hand_computed_half_recall_with_false_positive():
    """Ranked: TP (0.9), FP (0.8), TP (0.7); 3 GT. Precision 1, 1/2, 2/3 at recall 1/3, 1/3, 2/3.
    VOC all-point AP = 1/3 * 1 + 1/3 * 2/3 = 5/9. COCO 101-point: recall 0..1/3 -> 1 (34 points),
    1/3..2/3 -> 2/3 (33 points), above -> 0: (34 + 33 * 2/3) / 101."""
    boxes, labels = _gt()
    dets = [
        _det([(boxes[0][0], 0.9, 0), ([40, 40, 50, 50], 0.8, 0)]),
        _det([(boxes[1][0], 0.7, 0)]),
    ]
    assert metrics.voc_ap50(dets, boxes, labels, 1) == pytest.approx(5 / 9)
    assert metrics.coco_ap50(dets, boxes, labels, 1) == pytest.approx((34 + 33 * 2 / 3) / 101)


def test_iou_threshold_is_half():
    boxes, labels = [np.array([[0, 0, 10, 10]], float)], [np.array([0])]
    # IoU 50/150 = 1/3 < 0.5: a miss; a shift of 2 px gives IoU 80/120 = 2/3: a hit
    miss = [_det([([0, 5, 10, 15], 0.9, 0)])]
    hit = [_det([([0, 2, 10, 12], 0.9, 0)])]
    assert metrics.voc_ap50(miss, boxes, labels, 1) == 0.0
    assert metrics.coco_ap50(miss, boxes, labels, 1) == 0.0
    assert metrics.voc_ap50(hit, boxes, labels, 1) == pytest.approx(1.0)


def test_decode_recovers_a_box():
    out = np.full((1, 3 + 4, 16, 16), -10.0)
    out[0, 1, 5, 7] = 4.0  # class 1 peak at cell (y 5, x 7)
    out[0, 3:, 5, 7] = [3.0, 2.0, 0.5, 0.25]  # w, h (cells), offset x, y
    d = centernet.decode(out, 3, 4, top_k=5, min_score=0.5)[0]
    assert d["labels"].tolist() == [1]
    np.testing.assert_allclose(
        d["boxes"][0], [(7.5 - 1.5) * 4, (5.25 - 1) * 4, (7.5 + 1.5) * 4, (5.25 + 1) * 4]
    )


def test_targets_put_peak_at_centre():
    t = centernet.make_targets([np.array([[8, 8, 24, 16]], float)], [np.array([2])], 3, 16, 4)
    assert float(t["hm"][0, 2, 3, 4]) == 1.0 and float(t["mask"].sum()) == 1.0
    np.testing.assert_allclose(t["reg"][0, :, 3, 4].numpy(), [4.0, 2.0, 0.0, 0.0])
