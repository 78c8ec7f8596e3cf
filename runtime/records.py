"""A Reading as people see it: the JSON record (`edge-predict --json`, and the HTTP server's
answer) and the annotated picture (`edge-predict --save-input`)."""

from PIL import Image, ImageDraw, ImageFont

from tegaki.runtime.contract import LABELS
from tegaki.runtime.preprocessing import DECODE_SCALE
from tegaki.runtime.reader import Prediction, Reading, digit_of

ANNOTATED_SIDE = 1024  # annotated pictures are reduced to this longest side


def reading_record(
    reading: Reading, top_k: int = 1, threshold: float = 0.0, labels: tuple[str, ...] = LABELS, **first
) -> dict:
    """The JSON-ready record of one image's reading; `first` items (e.g. path=...) lead it;
    `labels` names the model's classes (DigitReader.labels; a fine-tuned model may add some).

    `number` has "?" for an unreadable digit; `unsure` is set when a digit is unreadable or
    below `threshold`. A one-digit image also keeps the one-digit record's `digit` and
    `top_k`, so that readers of the old record keep working."""
    digits = [_digit_record(d, top_k, threshold, labels) for d in reading.digits]
    record = {
        **first,
        "number": reading.number,
        "confidence": round(reading.confidence, 6),
        "unsure": reading.unsure(threshold),
    }
    if len(digits) == 1:
        record.update(digit=digits[0]["digit"], label=digits[0]["label"], top_k=digits[0]["top_k"])
    record["digits"] = digits
    record["timing_ms"] = {"preprocess": round(reading.preprocess_ms, 3), "inference": round(reading.inference_ms, 3)}
    return record


def _digit_record(p: Prediction, top_k: int, threshold: float, labels: tuple[str, ...]) -> dict:
    # "digit" is null for an unreadable piece and for a class that is not a digit; "label" names every class
    return {
        "digit": p.digit if p.readable else None,
        "label": p.label if p.readable else None,
        "confidence": round(p.confidence, 6),
        "unsure": not p.readable or p.confidence < threshold,
        "top_k": [
            {"digit": digit_of(labels[i]), "label": labels[i], "probability": round(prob, 6)}
            for i, prob in p.top(top_k)
        ],
        "box": list(p.box) if p.box else None,
    }


def annotated(image: Image.Image, reading: Reading, threshold: float = 0.0) -> Image.Image:
    """A copy of the decoded image with each digit's box and reading drawn on it: green when
    sure, orange when unsure, red when unreadable."""
    picture = image.convert("RGB")
    scale = 1 / image.info.get(DECODE_SCALE, 1)  # boxes are in the file's pixels
    if max(picture.size) > ANNOTATED_SIDE:
        scale *= ANNOTATED_SIDE / max(picture.size)
        picture.thumbnail((ANNOTATED_SIDE, ANNOTATED_SIDE))
    draw = ImageDraw.Draw(picture)
    line = max(1, round(max(picture.size) / 300))
    font = ImageFont.load_default(size=max(10, round(max(picture.size) / 30)))
    for p in reading.digits:
        left, top, right, bottom = (round(v * scale) for v in p.box)
        colour = (220, 0, 0) if not p.readable else (240, 140, 0) if p.confidence < threshold else (0, 170, 0)
        draw.rectangle((left, top, right - 1, bottom - 1), outline=colour, width=line)
        label = f"{p.text} {p.confidence:.0%}"
        draw.text((left, max(0, top - line)), label, fill=colour, font=font, anchor="lb" if top > 0 else "lt")
    return picture
