"""Thin ctypes binding of libsvae (the C API in svae.h).

    import svae
    model = svae.Model("model.svae")            # read-only, share between threads
    ctx = model.context()                       # one per thread
    vectors = ctx.encode(["Hello there.", "the end"])   # numpy array [n, hidden] (list of lists without numpy)
    ids, text = ctx.decode(vectors[0])
    output, exact = ctx.reconstruct("Hello there.")

The library is found through $SVAE_LIBRARY, then ctypes.util.find_library("svae"), then its
SONAME "libsvae.so.1" on the loader's path. Errors raise SVAEError (with .status, a negative
svae_status, and the context's message). ctypes releases the GIL during calls, so contexts on
several threads run in parallel.
"""
import ctypes
import ctypes.util
import os

try:
    import numpy as _np
except ImportError:  # lists instead of arrays
    _np = None

__all__ = ["Model", "Context", "SVAEError", "load_library", "version"]

OK = 0
ERR_INVALID_ARGUMENT = -1
ERR_BUFFER_TOO_SMALL = -2
ERR_OUT_OF_RANGE = -3
ERR_MODEL = -4
ERR_NO_TOKENIZER = -5
ERR_INVALID_UTF8 = -6
ERR_TOO_LONG = -7
ERR_BAD_VECTOR = -8
ERR_INTERNAL = -9

ABI_VERSION = 1

c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_float_p = ctypes.POINTER(ctypes.c_float)


class SVAEError(Exception):
    """A failed C call: `status` is the svae_status code, `message` the context's last error."""

    def __init__(self, status, message):
        super().__init__(f"{message} (status {status})")
        self.status = status
        self.message = message


class _ModelParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32)]


class _ContextParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32)]


class _Span(ctypes.Structure):
    _fields_ = [("offset", ctypes.c_size_t), ("length", ctypes.c_size_t)]


TOKEN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int32, ctypes.c_void_p)


class _DecodeParams(ctypes.Structure):
    _fields_ = [
        ("max_tokens", ctypes.c_int32),
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_int32),
        ("top_p", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("on_token", TOKEN_CALLBACK),
        ("user_data", ctypes.c_void_p),
    ]


_lib = None


def load_library(path=None):
    """Loads libsvae once (path, $SVAE_LIBRARY, find_library("svae") or the SONAME libsvae.so.ABI)."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    name = path or os.environ.get("SVAE_LIBRARY") or ctypes.util.find_library("svae") or f"libsvae.so.{ABI_VERSION}"
    lib = ctypes.CDLL(name)
    P, I32, SZ, S = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t, ctypes.c_char_p
    sigs = {
        "svae_version": (S, []),
        "svae_abi_version": (ctypes.c_int, []),
        "svae_status_string": (S, [ctypes.c_int]),
        "svae_model_default_params": (_ModelParams, []),
        "svae_context_default_params": (_ContextParams, []),
        "svae_decode_default_params": (_DecodeParams, []),
        "svae_model_load": (P, [S, ctypes.POINTER(_ModelParams), ctypes.c_char_p, SZ]),
        "svae_model_free": (None, [P]),
        "svae_context_new": (P, [P, ctypes.POINTER(_ContextParams)]),
        "svae_context_free": (None, [P]),
        "svae_context_last_error": (S, [P]),
        "svae_model_architecture": (S, [P]),
        "svae_model_type_summary": (S, [P]),
        "svae_tokenize": (ctypes.c_int, [P, S, c_int32_p, SZ, c_size_p]),
        "svae_detokenize": (ctypes.c_int, [P, c_int32_p, I32, ctypes.c_char_p, SZ, c_size_p]),
        "svae_split_sentences": (ctypes.c_int, [P, S, I32, I32, ctypes.POINTER(_Span), SZ, c_size_p]),
        "svae_encode_texts": (ctypes.c_int, [P, ctypes.POINTER(S), I32, c_float_p, SZ, c_size_p]),
        "svae_encode_ids": (ctypes.c_int, [P, ctypes.POINTER(c_int32_p), c_int32_p, I32, c_float_p, SZ, c_size_p]),
        "svae_decode": (ctypes.c_int, [P, c_float_p, I32, ctypes.POINTER(_DecodeParams),
                                       c_int32_p, SZ, c_size_p, ctypes.c_char_p, SZ, c_size_p]),
        "svae_reconstruct": (ctypes.c_int, [P, S, ctypes.c_char_p, SZ, c_size_p, c_int32_p]),
    }
    for info in ["hidden_size", "n_heads", "n_vocab", "n_encoder_layers", "n_decoder_layers", "max_seq_len",
                 "bos_id", "eos_id", "pad_id", "has_tokenizer"]:
        sigs["svae_model_" + info] = (I32, [P])
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    if lib.svae_abi_version() != ABI_VERSION:
        raise OSError(f"{name}: expected ABI version {ABI_VERSION}, found {lib.svae_abi_version()}")
    if path is None:
        _lib = lib
    return lib


def version():
    return load_library().svae_version().decode()


def _text(s):
    """str → UTF-8 bytes; bytes pass through (so that invalid UTF-8 reaches the library)."""
    return s if isinstance(s, bytes) else s.encode("utf-8")


class Model:
    """A loaded .svae model (read-only, shareable between threads)."""

    def __init__(self, path, threads=0, library=None):
        self._lib = load_library(library)
        params = _ModelParams(threads)
        error = ctypes.create_string_buffer(1024)
        self._handle = self._lib.svae_model_load(_text(os.fspath(path)), ctypes.byref(params), error, len(error))
        if not self._handle:
            raise SVAEError(ERR_MODEL, error.value.decode("utf-8", "replace"))
        self._default = None

    def close(self):
        if getattr(self, "_handle", None):
            if self._default is not None:
                self._default.close()
            self._lib.svae_model_free(self._handle)
            self._handle = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _info(self, name):
        return getattr(self._lib, "svae_model_" + name)(self._handle)

    hidden_size = property(lambda self: self._info("hidden_size"))
    n_heads = property(lambda self: self._info("n_heads"))
    n_vocab = property(lambda self: self._info("n_vocab"))
    n_encoder_layers = property(lambda self: self._info("n_encoder_layers"))
    n_decoder_layers = property(lambda self: self._info("n_decoder_layers"))
    max_seq_len = property(lambda self: self._info("max_seq_len"))
    bos_id = property(lambda self: self._info("bos_id"))
    eos_id = property(lambda self: self._info("eos_id"))
    has_tokenizer = property(lambda self: self._info("has_tokenizer") == 1)
    architecture = property(lambda self: self._lib.svae_model_architecture(self._handle).decode())
    type_summary = property(lambda self: self._lib.svae_model_type_summary(self._handle).decode())

    def context(self, threads=0):
        """A new context (use one per thread)."""
        return Context(self, threads)

    def __getattr__(self, name):
        # Convenience: model.encode(...) etc. on one default context (not for concurrent use).
        if name in ("tokenize", "detokenize", "split_sentences", "encode", "encode_ids", "decode", "reconstruct"):
            if self._default is None:
                self._default = self.context()
            return getattr(self._default, name)
        raise AttributeError(name)


class Context:
    """Per-thread state on a Model. Never use one context from two threads at once."""

    def __init__(self, model, threads=0):
        self.model = model  # keeps the model (and library) alive
        self._lib = model._lib
        self._handle = self._lib.svae_context_new(model._handle, ctypes.byref(_ContextParams(threads)))
        if not self._handle:
            raise SVAEError(ERR_INVALID_ARGUMENT, "svae_context_new failed")

    def close(self):
        if getattr(self, "_handle", None):
            self._lib.svae_context_free(self._handle)
            self._handle = None

    __del__ = close

    def _check(self, status):
        if status != OK:
            raise SVAEError(status, self._lib.svae_context_last_error(self._handle).decode("utf-8", "replace"))

    def _fill(self, ctype, call, extra=0):
        """Size query, then the call with an exact buffer; returns (buffer, count)."""
        n = ctypes.c_size_t(0)
        status = call(None, 0, ctypes.byref(n))
        if status not in (OK, ERR_BUFFER_TOO_SMALL):
            self._check(status)
        buf = (ctype * (n.value + extra))()
        self._check(call(buf, len(buf), ctypes.byref(n)))
        return buf, n.value

    def tokenize(self, text):
        buf, n = self._fill(ctypes.c_int32, lambda b, c, n: self._lib.svae_tokenize(self._handle, _text(text), b, c, n))
        return list(buf[:n])

    def detokenize(self, ids):
        arr = (ctypes.c_int32 * len(ids))(*ids)
        buf, n = self._fill(ctypes.c_char, lambda b, c, n: self._lib.svae_detokenize(self._handle, arr, len(ids), b, c, n), 1)
        return buf.raw[:n].decode("utf-8")

    def split_sentences(self, text, max_sentences=64, mimic_reference=False):
        data = _text(text)
        buf, n = self._fill(_Span, lambda b, c, n: self._lib.svae_split_sentences(
            self._handle, data, max_sentences, int(mimic_reference), b, c, n))
        return [data[s.offset:s.offset + s.length].decode("utf-8") for s in buf[:n]]

    def _rows(self, buf, n, rows):
        d = n // rows if rows else self.model.hidden_size
        if _np is not None:
            return _np.ctypeslib.as_array(buf)[:n].reshape(rows, d).copy()
        flat = list(buf[:n])
        return [flat[i * d:(i + 1) * d] for i in range(rows)]

    def encode(self, texts):
        """Sentence vectors of texts: array [len(texts), hidden_size]."""
        arr = (ctypes.c_char_p * len(texts))(*[_text(t) for t in texts])
        buf, n = self._fill(ctypes.c_float, lambda b, c, n: self._lib.svae_encode_texts(self._handle, arr, len(texts), b, c, n))
        return self._rows(buf, n, len(texts))

    def encode_ids(self, seqs):
        """Sentence vectors of id sequences (BOS first, as tokenize returns them)."""
        arrays = [(ctypes.c_int32 * len(s))(*s) for s in seqs]
        ptrs = (c_int32_p * len(seqs))(*[ctypes.cast(a, c_int32_p) for a in arrays])
        lengths = (ctypes.c_int32 * len(seqs))(*[len(s) for s in seqs])
        buf, n = self._fill(ctypes.c_float, lambda b, c, n: self._lib.svae_encode_ids(
            self._handle, ptrs, lengths, len(seqs), b, c, n))
        return self._rows(buf, n, len(seqs))

    def decode(self, vector, max_tokens=0, temperature=0.0, top_k=0, top_p=1.0, seed=0, on_token=None):
        """Generated (ids, text) for a vector; text is None without a tokenizer. `on_token(id)`
        streams ids; return False from it to stop."""
        values = [float(x) for x in vector]
        vec = (ctypes.c_float * len(values))(*values)
        params = self._lib.svae_decode_default_params()
        params.max_tokens, params.temperature, params.top_k, params.top_p, params.seed = (
            max_tokens, temperature, top_k, top_p, seed)
        if on_token is not None:
            callback = TOKEN_CALLBACK(lambda i, _: 0 if on_token(i) is False else 1)
            params.on_token = callback
        cap = max(self.model.max_seq_len, 1)
        ids = (ctypes.c_int32 * cap)()
        n_ids = ctypes.c_size_t(0)
        with_text = self.model.has_tokenizer
        text_cap = 4 * cap * 16 + 1
        text = ctypes.create_string_buffer(text_cap) if with_text else None
        n_bytes = ctypes.c_size_t(0)
        args = (text, text_cap, ctypes.byref(n_bytes)) if with_text else (None, 0, None)
        status = self._lib.svae_decode(self._handle, vec, len(values), ctypes.byref(params),
                                       ids, cap, ctypes.byref(n_ids), *args)
        if status == ERR_BUFFER_TOO_SMALL and with_text:  # a very long text: once more, exact
            text_cap = n_bytes.value + 1
            text = ctypes.create_string_buffer(text_cap)
            status = self._lib.svae_decode(self._handle, vec, len(values), ctypes.byref(params),
                                           ids, cap, ctypes.byref(n_ids), text, text_cap, ctypes.byref(n_bytes))
        self._check(status)
        return list(ids[:n_ids.value]), (text.raw[:n_bytes.value].decode("utf-8") if with_text else None)

    def reconstruct(self, text):
        """(output text, exact) for encoding `text` and decoding it greedily."""
        exact = ctypes.c_int32(0)
        buf, n = self._fill(ctypes.c_char, lambda b, c, n: self._lib.svae_reconstruct(
            self._handle, _text(text), b, c, n, ctypes.byref(exact)), 1)
        return buf.raw[:n].decode("utf-8"), exact.value == 1
