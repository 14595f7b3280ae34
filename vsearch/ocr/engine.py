"""PP-OCRv4 text detection and recognition (rapidocr-onnxruntime), offline, from the wheel's models."""

from __future__ import annotations

import math
import threading
from typing import Any

import cv2
import numpy as np

from vsearch.errors import ModelMissing

RAPIDOCR_VERSION = "1.4.4"
MODEL_ID = f"rapidocr:{RAPIDOCR_VERSION}:ppocrv4-ch"

#: (x0, y0, x1, y1) in frame pixels.
Rect = tuple[float, float, float, float]

#: The detector sees frames at most this long on their longer side (no upscaling).
DETECT_SIDE = 960
#: The text/no-text gate runs the same detector at most this long on the longer side (640x360 ->
#: 384x224: 0.4 of the pixels, a quarter of the CPU time); text as small as 1/26 of the frame
#: height (the dev clips' corner badges) still lights its probability map up (docs/OCR.md).
GATE_SIDE = 384
#: A frame has text when some pixel of the gate's probability map reaches this (DB's own
#: binarisation threshold; text-free dev-set frames stay below 0.15, text reaches 0.9-1.0).
GATE_PROB = 0.3


class OcrEngine:
    """Text boxes and their strings in RGB frames.

    The text-direction classifier of rapidocr is not used: burned-in video text is upright, and
    it costs a third of the recognition time.

    Attributes:
        model_id: names the detector + recogniser (stored with every span).
    """

    model_id = MODEL_ID

    def __init__(self, threads: int = 0) -> None:
        """*threads*: onnxruntime intra-op threads (0: onnxruntime's default, all cores).

        The sessions are rebuilt without intra-op spinning: onnxruntime's threads otherwise
        busy-wait between the many small runs of a video (a third of the detector's CPU time on
        this 2-core machine, for no gain in wall time when other work shares the cores).

        Raises:
            ModelMissing: rapidocr-onnxruntime is not installed.
        """
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:
            raise ModelMissing(
                f"on-screen text needs rapidocr-onnxruntime ({e}); "
                "install it with: pip install --no-deps rapidocr-onnxruntime==1.4.4 pyclipper shapely six"
            ) from None
        kwargs: dict[str, Any] = {"det_limit_side_len": DETECT_SIDE, "det_limit_type": "max"}
        if threads > 0:
            kwargs["intra_op_num_threads"] = threads
        self._ocr = RapidOCR(**kwargs)
        _quiet_sessions(self._ocr, threads)
        det = self._ocr.text_det
        self._mean = np.asarray(det.mean, dtype=np.float32)
        self._std = np.asarray(det.std, dtype=np.float32)
        self._lock = threading.Lock()

    def text_regions(self, rgb: np.ndarray, region: Rect | None = None) -> list[Rect]:
        """Where the frame may hold text: the detector's probability map at GATE_SIDE.

        Returns the rectangles (x0, y0, x1, y1, frame pixels) of the map's connected areas that
        reach GATE_PROB; [] means no text. About a quarter of a full detection's cost; frames it
        clears are not detected at full size. *region* (frame pixels) limits the look to that part
        of the frame, at the scale the whole frame would have (the rest is known to the caller),
        for a cost in proportion to its area. Frames no larger than GATE_SIDE are not gated (the
        full run is as cheap): the whole frame is returned.
        """
        h, w = rgb.shape[:2]
        if max(h, w) <= GATE_SIDE:
            return [(0.0, 0.0, float(w), float(h))]
        # sized as rapidocr's DetPreProcess sizes a whole frame: scaled, then rounded to multiples of 32
        ratio = GATE_SIDE / max(h, w)
        fw, fh = max(32, int(round(int(w * ratio) / 32) * 32)), max(32, int(round(int(h * ratio) / 32) * 32))
        small = cv2.resize(np.ascontiguousarray(rgb[:, :, ::-1]), (fw, fh))
        # a region is cut from that picture on the network's 32-pixel grid: the map inside it is
        # the whole frame's (resizing a crop instead rounds its scale, and small text then fades)
        rx0, ry0, rx1, ry1 = region if region is not None else (0.0, 0.0, float(w), float(h))
        x0, y0 = int(rx0 * fw / w) // 32 * 32, int(ry0 * fh / h) // 32 * 32
        x1 = min(fw, -(-math.ceil(rx1 * fw / w) // 32) * 32)
        y1 = min(fh, -(-math.ceil(ry1 * fh / h) // 32) * 32)
        if x1 - x0 < 32 or y1 - y0 < 32:
            return []
        rw, rh = x1 - x0, y1 - y0
        x = (small[y0:y1, x0:x1].astype(np.float32) / 255.0 - self._mean) / self._std
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
        with self._lock:
            prob = np.asarray(self._ocr.text_det.infer(x)[0]).reshape(rh, rw)
        lit = (prob >= GATE_PROB).astype(np.uint8)
        if not lit.any():
            return []
        n, _, boxes, _ = cv2.connectedComponentsWithStats(lit, connectivity=8)
        sx, sy = w / fw, h / fh
        return [
            ((x0 + bx) * sx, (y0 + by) * sy, (x0 + bx + bw) * sx, (y0 + by + bh) * sy)
            for bx, by, bw, bh, _area in boxes[1:n].tolist()
        ]

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Quadrilaterals (float32 [4, 2], pixels, clockwise from top-left) of text lines, top to bottom."""
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            boxes, _ = self._ocr.text_det(bgr)
        if boxes is None or len(boxes) == 0:
            return []
        return [np.asarray(b, dtype=np.float32) for b in self._ocr.sorted_boxes(boxes)]

    def recognise(self, rgb: np.ndarray, boxes: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence in 0..1) of each box, in the same order."""
        if not boxes:
            return []
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            crops = self._ocr.get_crop_img_list(bgr, [b.copy() for b in boxes])
            res, _ = self._ocr.text_rec(crops)
        return [(str(r[0]), float(r[1])) for r in res]


def _quiet_sessions(ocr: Any, threads: int) -> None:
    """Replace rapidocr's detector and recogniser sessions by the same models without spinning."""
    import os

    import onnxruntime as ort

    for holder in (ocr.text_det.infer, ocr.text_rec.session):
        old = holder.session
        path = getattr(old, "_model_path", None)
        if not path or not os.path.exists(path):
            continue  # keep rapidocr's session: it works, it only spins
        opts = ort.SessionOptions()
        opts.log_severity_level = 4
        opts.enable_cpu_mem_arena = False
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            opts.intra_op_num_threads = threads
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        holder.session = ort.InferenceSession(path, sess_options=opts, providers=old.get_providers())
