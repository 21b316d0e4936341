"""The pure parts of the OCR benchmark: word normalisation, the word alignment (WER) and box IoU."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocr_bench import align, iou, normalize


def test_normalize_folds_long_s_and_the_combining_e_and_trims_punctuation() -> None:
    assert normalize("Monatsſchrift.") == "Monatsschrift"
    assert normalize("Zwo\u0364lftes") == "Zwölftes"
    assert normalize("„Aufklärung?“") == "Aufklärung" and normalize("—") == ""
    assert normalize("Kant") != normalize("kant")  # case counts


def test_align_counts_edits_and_matches_only_equal_words() -> None:
    ref = ["was", "ist", "aufklärung", "ausgang", "des", "menschen"]
    hyp = ["was", "ift", "aufklärung", "der", "ausgang", "menschen"]
    errors, pairs = align(ref, hyp)
    assert errors == 3  # ist→ift, +der, -des
    assert [(ref[i], hyp[j]) for i, j in pairs] == [("was", "was"), ("aufklärung", "aufklärung"),
                                                    ("ausgang", "ausgang"), ("menschen", "menschen")]
    assert align([], ["x"]) == (1, []) and align(["x"], []) == (1, [])


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == 50 / 150
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
