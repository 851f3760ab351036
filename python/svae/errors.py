"""Errors raised by svae: one class per svae_status code of svae.h, all subclasses of SVAEError.

Errors about the caller's input also derive from ValueError, so `except ValueError` catches them.
"""
from __future__ import annotations


class SVAEError(Exception):
    """A failed call into libsvae. `status` is the negative svae_status code (0 for errors raised
    by the binding itself), `message` the library's description of what was expected and found."""

    status: int = 0

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class LibraryNotFoundError(SVAEError, OSError):
    """libsvae could not be found or loaded; the message lists what was searched."""


class InvalidArgumentError(SVAEError, ValueError):
    """A bad argument: a negative or absurd count, an option out of range, an empty sentence."""
    status = -1


class OutOfRangeError(SVAEError, ValueError):
    """A token id outside [0, n_vocab)."""
    status = -3


class ModelError(SVAEError):
    """The model file is unreadable or invalid, or the model cannot do what was asked (e.g.
    encoding with a token-level OPT file)."""
    status = -4


class NoTokenizerError(SVAEError):
    """The model file carries no tokenizer: use the id-based calls."""
    status = -5


class InvalidUTF8Error(SVAEError, ValueError):
    """Input text (given as bytes) is not valid UTF-8."""
    status = -6


class TooLongError(SVAEError, ValueError):
    """A sentence has more tokens than the model's max_seq_len."""
    status = -7


class BadVectorError(SVAEError, ValueError):
    """A vector whose length is not hidden_size, or that holds NaN or infinity."""
    status = -8


class InternalError(SVAEError):
    """An unexpected failure inside the library (e.g. its thread pool could not start)."""
    status = -9


_BY_STATUS = {cls.status: cls for cls in (InvalidArgumentError, OutOfRangeError, ModelError, NoTokenizerError,
                                          InvalidUTF8Error, TooLongError, BadVectorError, InternalError)}


def error_for(status: int, message: str) -> SVAEError:
    """The exception for a non-zero svae_status (unknown codes give a plain SVAEError)."""
    cls = _BY_STATUS.get(status)
    return cls(message) if cls is not None else SVAEError(f"{message} (status {status})", status)
