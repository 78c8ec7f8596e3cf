"""The JSON record of one read digit: the one definition `edge-predict --json` and
`edge-serve` share, so an app gets the same object from either."""

from tegaki.runtime.reader import Prediction


def prediction_record(path: str, prediction: Prediction, top_k: int = 1, unsure: bool = False) -> dict:
    """`path` names the input (`-` for bytes with no name); `top_k` most likely digits; `unsure`
    marks an answer under the caller's confidence threshold."""
    p = prediction
    return {
        "path": path, "digit": p.digit, "confidence": round(p.confidence, 6), "unsure": unsure,
        "top_k": [{"digit": d, "probability": round(prob, 6)} for d, prob in p.top(top_k)],
        "timing_ms": {"preprocess": round(p.preprocess_ms, 3), "inference": round(p.inference_ms, 3)},
    }
