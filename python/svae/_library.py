"""Finding and loading libsvae (the C API of Sources/CSVAEAPI/include/svae.h) with ctypes.

Search order (the first file that exists is loaded; a file that exists but fails to load is an
error, not a reason to try the next one):

1. ``$SVAE_LIBRARY``: the path of a libsvae shared library. When set, nothing else is tried.
2. The package's own copy: ``svae/_lib/libsvae.so`` inside the installed package (``pip install
   ./python`` and the wheel of ``tools/build-wheel.sh`` put it there).
3. ``tools/install.sh --prefix DIR`` locations: ``DIR/lib`` for DIR in ``$SVAE_PREFIX``, the
   active Python environment (``sys.prefix``), ``~/.local`` and ``/usr/local``, then the
   ``libdir`` that ``pkg-config svae`` reports (so a ``PKG_CONFIG_PATH`` set for C builds works).
4. The system loader: ``ctypes.util.find_library("svae")`` (``ldconfig``, ``LD_LIBRARY_PATH``).

In each directory the names ``libsvae.so.<ABI>`` and ``libsvae.so`` are tried, in that order.
The library is loaded with ``ctypes.CDLL``, which releases the GIL during every call.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from .errors import LibraryNotFoundError

#: SVAE_ABI_VERSION of svae.h that this binding is written against.
ABI_VERSION = 1
#: Largest batch one C call accepts (SVAE_MAX_BATCH).
MAX_BATCH = 1 << 20

_NAMES = (f"libsvae.so.{ABI_VERSION}", "libsvae.so")
_PACKAGE_LIB_DIR = Path(__file__).resolve().parent / "_lib"

c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_float_p = ctypes.POINTER(ctypes.c_float)


class ModelParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32)]


class ContextParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32)]


class Span(ctypes.Structure):
    _fields_ = [("offset", ctypes.c_size_t), ("length", ctypes.c_size_t)]


TOKEN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int32, ctypes.c_void_p)
SENTENCE_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class DecodeParams(ctypes.Structure):
    _fields_ = [
        ("max_tokens", ctypes.c_int32),
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_int32),
        ("top_p", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("on_token", TOKEN_CALLBACK),
        ("user_data", ctypes.c_void_p),
    ]


class GenerateParams(ctypes.Structure):
    _fields_ = [
        ("max_sentences", ctypes.c_int32),
        ("max_tokens", ctypes.c_int32),
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_int32),
        ("top_p", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("on_token", TOKEN_CALLBACK),
        ("on_sentence", SENTENCE_CALLBACK),
        ("user_data", ctypes.c_void_p),
    ]


class PerplexityParams(ctypes.Structure):
    _fields_ = [("reference", ctypes.c_void_p), ("attention", ctypes.c_int32)]


class PerplexityResult(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int64) for n in ("units", "tokens")] + [
        (n, ctypes.c_double) for n in ("sum_ce", "mean_ce", "ppl")] + [
        (n, ctypes.c_int64) for n in ("correct", "stop_decisions", "stop_correct")] + [
        (n, ctypes.c_int32) for n in ("attention", "has_reference")] + [
        (n, ctypes.c_double) for n in ("reference_mean_ce", "ppl_ratio", "top1_agreement",
                                       "kld_mean", "kld_median", "kld_p99", "kld_max")]


def _signatures() -> dict:
    P, I32, SZ, S = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t, ctypes.c_char_p
    sigs = {
        "svae_version": (S, []),
        "svae_abi_version": (ctypes.c_int, []),
        "svae_status_string": (S, [ctypes.c_int]),
        "svae_decode_default_params": (DecodeParams, []),
        "svae_generate_default_params": (GenerateParams, []),
        "svae_model_load": (P, [S, ctypes.POINTER(ModelParams), ctypes.c_char_p, SZ]),
        "svae_model_free": (None, [P]),
        "svae_context_new": (P, [P, ctypes.POINTER(ContextParams)]),
        "svae_context_free": (None, [P]),
        "svae_context_last_error": (S, [P]),
        "svae_model_architecture": (S, [P]),
        "svae_model_type_summary": (S, [P]),
        "svae_tokenize": (ctypes.c_int, [P, S, c_int32_p, SZ, c_size_p]),
        "svae_detokenize": (ctypes.c_int, [P, c_int32_p, I32, ctypes.c_char_p, SZ, c_size_p]),
        "svae_split_sentences": (ctypes.c_int, [P, S, I32, I32, ctypes.POINTER(Span), SZ, c_size_p]),
        "svae_encode_texts": (ctypes.c_int, [P, ctypes.POINTER(S), I32, c_float_p, SZ, c_size_p]),
        # ids, lengths and out as addresses (ints): Model.encode_ids's per-call cost
        "svae_encode_ids": (ctypes.c_int, [P, P, P, I32, P, SZ, c_size_p]),
        "svae_decode": (ctypes.c_int, [P, c_float_p, I32, ctypes.POINTER(DecodeParams),
                                       c_int32_p, SZ, c_size_p, ctypes.c_char_p, SZ, c_size_p]),
        "svae_decode_batch": (ctypes.c_int, [P, c_float_p, I32, I32, ctypes.POINTER(DecodeParams), I32,
                                             c_int32_p, SZ, c_size_p, c_int32_p]),
        "svae_reconstruct": (ctypes.c_int, [P, S, ctypes.c_char_p, SZ, c_size_p, c_int32_p]),
        "svae_generate": (ctypes.c_int, [P, S, ctypes.POINTER(GenerateParams), ctypes.c_char_p, SZ, c_size_p]),
        "svae_perplexity_default_params": (PerplexityParams, []),
        "svae_perplexity_begin": (ctypes.c_int, [P, ctypes.POINTER(PerplexityParams)]),
        "svae_perplexity_add": (ctypes.c_int, [P, ctypes.POINTER(S), I32, c_size_p]),
        "svae_perplexity_result_get": (ctypes.c_int, [P, ctypes.POINTER(PerplexityResult)]),
    }
    for info in ("hidden_size", "n_heads", "n_vocab", "n_encoder_layers", "n_decoder_layers", "max_seq_len",
                 "bos_id", "eos_id", "pad_id", "has_tokenizer", "n_tokenizer_vocab"):
        sigs["svae_model_" + info] = (I32, [P])
    return sigs


def _install_prefixes() -> list[Path]:
    prefixes = [Path(p) for p in os.environ.get("SVAE_PREFIX", "").split(os.pathsep) if p]
    prefixes += [Path(sys.prefix), Path.home() / ".local", Path("/usr/local")]
    return prefixes


def _pkg_config_libdir() -> Path | None:
    tool = shutil.which("pkg-config")
    if tool is None:
        return None
    try:
        out = subprocess.run([tool, "--variable=libdir", "svae"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = out.stdout.strip()
    return Path(libdir) if out.returncode == 0 and libdir else None


def candidates() -> list[tuple[str, Path]]:
    """The places searched after $SVAE_LIBRARY, in order, as (where it comes from, file)."""
    found: list[tuple[str, Path]] = []
    dirs = [("the package's copy", _PACKAGE_LIB_DIR)]
    dirs += [(f"install prefix {p}", p / "lib") for p in _install_prefixes()]
    libdir = _pkg_config_libdir()
    if libdir is not None:
        dirs.append(("pkg-config svae libdir", libdir))
    for origin, directory in dirs:
        for name in _NAMES:
            found.append((origin, directory / name))
    return found


class Library(ctypes.CDLL):
    """libsvae loaded with ctypes.CDLL (which releases the GIL during calls); `path` is its file."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


_lock = threading.Lock()
_loaded: Library | None = None


def _open(path: str) -> Library:
    lib = Library(path)
    try:
        for name, (restype, argtypes) in _signatures().items():
            f = getattr(lib, name)
            f.restype, f.argtypes = restype, argtypes
    except AttributeError as e:
        raise LibraryNotFoundError(f"{path} is not a compatible libsvae: {e}") from None
    found = lib.svae_abi_version()
    if found != ABI_VERSION:
        raise LibraryNotFoundError(
            f"{path} has C API (ABI) version {found}, this svae package expects {ABI_VERSION}: "
            "install the package and the library from the same source tree")
    return lib


def library() -> Library:
    """The loaded libsvae (found once per process, in the order described in this module)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _find()
        return _loaded


def _find() -> Library:
    explicit = os.environ.get("SVAE_LIBRARY")
    if explicit:
        if not os.path.isfile(explicit):
            raise LibraryNotFoundError(f"SVAE_LIBRARY is set to {explicit}, which is not a file")
        return _load_or_explain(explicit, "SVAE_LIBRARY")
    searched = ["SVAE_LIBRARY (not set)"]
    for origin, path in candidates():
        if path.is_file():
            return _load_or_explain(str(path), origin)
        searched.append(f"{path} ({origin}: absent)")
    system = ctypes.util.find_library("svae")
    if system is not None:
        return _load_or_explain(system, "the system loader")
    searched.append("the system loader (ctypes.util.find_library('svae'): nothing)")
    raise LibraryNotFoundError(
        "libsvae was not found. Searched, in order:\n  " + "\n  ".join(searched) +
        "\nSet SVAE_LIBRARY to the library's path (after `tools/install.sh --prefix DIR` it is "
        "DIR/lib/libsvae.so), or SVAE_PREFIX to DIR, or install the package from a wheel that carries it "
        "(tools/build-wheel.sh).")


def _load_or_explain(path: str, origin: str) -> Library:
    try:
        return _open(path)
    except OSError as e:
        raise LibraryNotFoundError(f"{path} (from {origin}) exists but could not be loaded: {e}") from None
