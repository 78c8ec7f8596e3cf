"""The runtime's exceptions. Catch TegakiError to handle every bad input or model at once."""


class TegakiError(Exception):
    """Base class: the message is one line that says what is wrong and with which input."""


class ImageError(TegakiError):
    """An input could not be read as an image, or holds no digit."""


class ModelError(TegakiError):
    """A model file is missing, unreadable, or not a model tegaki can feed."""


def reason(error: BaseException, limit: int = 160, line: int = 0) -> str:
    """`error`'s message as one line for another message: line `line` of it (onnxruntime puts
    the cause last: -1), its type's name when empty, cut at a word to `limit` characters."""
    lines = [text.strip() for text in str(error).splitlines() if text.strip()]
    text = lines[line] if lines else type(error).__name__
    if len(text) <= limit:
        return text
    cut = text[: limit - 2]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + " …"
