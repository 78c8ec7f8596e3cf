"""The runtime's exceptions. Catch TegakiError to handle every bad input or model at once."""


class TegakiError(Exception):
    """Base class: the message is one line that says what is wrong and with which input."""


class ImageError(TegakiError):
    """An input could not be read as an image, or holds no digit."""


class ModelError(TegakiError):
    """A model file is missing, unreadable, or not a model tegaki can feed."""
