"""svae: SentenceVAE models on CPU from Python, through libsvae (the C API, loaded with ctypes).

    import svae

    with svae.Model("svae-tiny.svae", threads=1) as model:
        vectors = model.encode(["The cat sat on the mat.", "It slept."])   # float32 [2, hidden_size]
        texts = model.decode(vectors)                                        # list[str]

Corpus-scale encoding on Ray Data: ``svae.ray`` (not imported by ``import svae``; needs ``ray[data]``).
docs/python.md describes installation, the library search order and the API.
"""
from ._library import ABI_VERSION
from .errors import (BadVectorError, InternalError, InvalidArgumentError, InvalidUTF8Error, LibraryNotFoundError,
                     ModelError, NoTokenizerError, OutOfRangeError, SVAEError, TooLongError)
from .model import Model, Perplexity, Reconstruction, library_path, version

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION", "Model", "Perplexity", "Reconstruction", "library_path", "version",
    "SVAEError", "LibraryNotFoundError", "InvalidArgumentError", "OutOfRangeError", "ModelError",
    "NoTokenizerError", "InvalidUTF8Error", "TooLongError", "BadVectorError", "InternalError",
]
