"""AP50 for the detection set: pycocotools' COCOeval (the standard implementation) at IoU 0.5.

torchmetrics' MeanAveragePrecision needs torchvision, which does not import beside torch 2.13.0
here, so COCOeval is called directly (pycocotools==2.0.11). `voc_ap50` is an independent
all-point-interpolated VOC AP (PASCAL VOC 2010+ rule), used by the tests to cross-check COCOeval
on hand-computed cases.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np


def coco_ap50(
    dets: list[dict], boxes: list[np.ndarray], labels: list[np.ndarray], classes: int
) -> float:
    """COCO-style AP at IoU 0.50 (101-point interpolation), mean over classes present."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns, results = [], [], []
    aid = 1
    for i, (bs, ls) in enumerate(zip(boxes, labels, strict=True)):
        images.append({"id": i, "width": 64, "height": 64})
        for b, c in zip(bs, ls, strict=True):
            w, h = float(b[2] - b[0]), float(b[3] - b[1])
            anns.append(
                {
                    "id": aid,
                    "image_id": i,
                    "category_id": int(c),
                    "bbox": [float(b[0]), float(b[1]), w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
            aid += 1
    for i, d in enumerate(dets):
        for b, s, c in zip(d["boxes"], d["scores"], d["labels"], strict=True):
            results.append(
                {
                    "image_id": i,
                    "category_id": int(c),
                    "score": float(s),
                    "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                }
            )
    if not results:
        return 0.0
    gt = COCO()
    gt.dataset = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": k} for k in range(classes)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "bbox")
        ev.params.iouThrs = np.array([0.5])
        ev.params.maxDets = [100, 100, 100]
        ev.evaluate()
        ev.accumulate()
    prec = ev.eval["precision"][0, :, :, 0, -1]  # (recall points, classes), area "all"
    per_class = [
        float(prec[:, k][prec[:, k] > -1].mean())
        for k in range(prec.shape[1])
        if (prec[:, k] > -1).any()
    ]
    return float(np.mean(per_class)) if per_class else 0.0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def voc_ap50(
    dets: list[dict], boxes: list[np.ndarray], labels: list[np.ndarray], classes: int
) -> float:
    """VOC all-point AP at IoU >= 0.5, mean over classes with ground truth."""
    aps = []
    for k in range(classes):
        gts = {
            i: [b for b, c in zip(bs, ls, strict=True) if c == k]
            for i, (bs, ls) in enumerate(zip(boxes, labels, strict=True))
        }
        npos = sum(len(v) for v in gts.values())
        if npos == 0:
            continue
        preds = [
            (float(s), i, b)
            for i, d in enumerate(dets)
            for b, s, c in zip(d["boxes"], d["scores"], d["labels"], strict=True)
            if c == k
        ]
        preds.sort(key=lambda p: -p[0])
        used = {i: [False] * len(v) for i, v in gts.items()}
        tp = np.zeros(len(preds))
        for j, (_, i, b) in enumerate(preds):
            ious = [iou(b, g) for g in gts[i]]
            if ious and max(ious) >= 0.5 and not used[i][int(np.argmax(ious))]:
                used[i][int(np.argmax(ious))] = True
                tp[j] = 1
        ctp = np.cumsum(tp)
        rec = ctp / npos
        prec = ctp / np.arange(1, len(preds) + 1)
        mrec = np.concatenate([[0], rec, [1]])
        mpre = np.concatenate([[0], prec, [0]])
        for j in range(len(mpre) - 2, -1, -1):
            mpre[j] = max(mpre[j], mpre[j + 1])
        idx = np.where(mrec[1:] != mrec[:-1])[0]
        aps.append(float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1])))
    return float(np.mean(aps)) if aps else 0.0
