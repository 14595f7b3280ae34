"""PP-OCRv4 text detection and recognition (rapidocr-onnxruntime), offline, from the wheel's models."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from vsearch.errors import ModelMissing

RAPIDOCR_VERSION = "1.4.4"
MODEL_ID = f"rapidocr:{RAPIDOCR_VERSION}:ppocrv4-ch"

#: The detector sees frames at most this long on their longer side (no upscaling).
DETECT_SIDE = 960


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
        self._lock = threading.Lock()

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
