"""svae.Model: a .svae file opened through libsvae, with one native context per calling thread."""
from __future__ import annotations

import ctypes
import os
import queue
import re
import threading
import weakref
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence, Union

import numpy as np

from . import _library as L
from .errors import NoTokenizerError, error_for

Text = Union[str, bytes]
_OK, _BUFFER_TOO_SMALL = 0, -2


class Reconstruction(NamedTuple):
    """One text encoded and decoded greedily."""
    text: str
    output: str
    exact: bool  # the generated tokens equal the input's (BOS and EOS aside) and EOS was produced


@dataclass(frozen=True)
class Perplexity:
    """Teacher-forced scores of Model.perplexity (docs/perplexity.md). Cross-entropies in nats."""
    units: int          # lines scored (blank lines are skipped)
    tokens: int         # target tokens scored
    sum_ce: float
    mean_ce: float      # sum_ce / tokens
    ppl: float          # exp(mean_ce)
    accuracy: float     # share of targets that are the model's argmax
    attention: str | None = None         # sllm files: "bidirectional" or "causal"
    stop_decisions: int = 0              # sllm files: stop-head decisions scored
    stop_accuracy: float | None = None   # sllm files: share of them right
    # With a reference model (else None): its mean_ce, exp(mean_ce - reference_mean_ce), the share
    # of tokens whose argmax agrees, and KL(P_reference || P_model) per token.
    reference_mean_ce: float | None = None
    ppl_ratio: float | None = None
    top1_agreement: float | None = None
    kld_mean: float | None = None
    kld_median: float | None = None
    kld_p99: float | None = None
    kld_max: float | None = None


_ATTENTION = {None: 0, "bidirectional": 1, "causal": 2}
_PERPLEXITY_CHUNK = 4096  # lines per native call: memory stays constant for any iterable


def version() -> str:
    """The loaded library's version, e.g. "0.1.0"."""
    return L.library().svae_version().decode()


def library_path() -> str:
    """The path of the libsvae that was loaded (see svae._library for the search order)."""
    return L.library().path


def _as_bytes(text: object, what: str) -> bytes:
    """str → UTF-8; bytes pass through so that invalid UTF-8 reaches the library's check."""
    if isinstance(text, str):
        data = text.encode("utf-8")
    elif isinstance(text, bytes):
        data = text
    else:
        raise TypeError(f"{what} must be str (or UTF-8 bytes), got {type(text).__name__}")
    if b"\0" in data:
        # A C string would silently end there.
        raise error_for(-1, f"{what} contains a NUL character, which the C API cannot pass")
    return data


def _text_list(texts: object, call: str) -> list[bytes]:
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{call} expects a sequence of texts, got one {type(texts).__name__}; "
                        f"wrap it in a list: {call}([text])")
    try:
        items = list(texts)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{call} expects a sequence of texts, got {type(texts).__name__}") from None
    return [_as_bytes(t, f"{call}: texts[{i}]") for i, t in enumerate(items)]


def _id_sequence(ids: object, what: str) -> np.ndarray:
    """`ids` as a 1-D integer array (not yet range-checked)."""
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"{what} must be a sequence of int token ids, got {type(ids).__name__}")
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one sequence of token ids, got an array of shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must hold int token ids, got {arr.dtype}")
    return arr


def _fits_int32(arr: np.ndarray) -> bool:
    return not arr.size or (arr.dtype.kind in "iu" and int(arr.min()) >= -(1 << 31) and int(arr.max()) < (1 << 31))


def _ids_array(ids: object, what: str) -> np.ndarray:
    arr = _id_sequence(ids, what)
    if not _fits_int32(arr):  # an int32 array would wrap it to a valid id
        bad = int(arr.max()) if int(arr.max()) >= (1 << 31) else int(arr.min())
        raise error_for(-3, f"{what}: token id {bad} is outside [0, n_vocab)")
    return np.ascontiguousarray(arr, dtype=np.int32)


def _id_rows(seqs: object, call: str) -> tuple[np.ndarray, list[int]]:
    """Token-id sequences as one int32 array and each one's length, with _ids_array's checks
    and errors (the sequence named by its index). A 2-D integer array is one sentence a row."""
    if isinstance(seqs, (str, bytes)):
        raise TypeError(f"{call} expects a sequence of token-id sequences")
    if isinstance(seqs, np.ndarray) and seqs.ndim == 2:
        if seqs.size and seqs.dtype.kind not in "iu":
            raise TypeError(f"{call}: seqs must hold int token ids, got {seqs.dtype}")
        rows, flat = seqs, seqs
    else:
        rows = [_id_sequence(s, f"{call}: seqs[{i}]") for i, s in enumerate(seqs)]
        # one range check for all (an int64 / uint64 mix concatenates to float: row by row then)
        flat = rows[0] if len(rows) == 1 else np.concatenate(rows) if rows else np.empty(0, dtype=np.int32)
    if not _fits_int32(flat):
        for i, a in enumerate(rows):
            _ids_array(a, f"{call}: seqs[{i}]")  # raises for the first bad row
    lengths = [seqs.shape[1]] * seqs.shape[0] if rows is seqs else [len(a) for a in rows]
    return np.ascontiguousarray(flat, dtype=np.int32).reshape(-1), lengths


class _Context:
    """One svae_context (per-thread scratch, KV caches, thread pool, last error)."""

    def __init__(self, model: "Model", threads: int) -> None:
        self.lib = model._lib
        self.handle = self.lib.svae_context_new(model._handle, ctypes.byref(L.ContextParams(threads)))
        if not self.handle:
            raise error_for(-1, f"could not create a context with threads={threads} (expected 0...256)")

    def free(self) -> None:
        handle, self.handle = self.handle, None
        if handle:
            self.lib.svae_context_free(handle)

    __del__ = free

    def check(self, status: int) -> None:
        if status != _OK:
            raise error_for(status, self.lib.svae_context_last_error(self.handle).decode("utf-8", "replace"))

    def fill(self, ctype, call, extra: int = 0):
        """A size query, then the call with an exact buffer: (buffer, count)."""
        n = ctypes.c_size_t(0)
        status = call(None, 0, ctypes.byref(n))
        if status not in (_OK, _BUFFER_TOO_SMALL):
            self.check(status)
        buf = (ctype * (n.value + extra))()
        self.check(call(buf, len(buf), ctypes.byref(n)))
        return buf, n.value


class _Callbacks:
    """Carries user callbacks through a native call: exceptions are kept and re-raised after it,
    and a rerun (after SVAE_ERR_BUFFER_TOO_SMALL) replays the first run's stop without calling
    the user again."""

    def __init__(self, on_sentence: Callable[[str], object] | None) -> None:
        self.on_sentence = on_sentence
        self.error: BaseException | None = None
        self.delivered = 0
        self.stopped_at: int | None = None
        self.replay = False
        self.seen = 0
        self.native = L.SENTENCE_CALLBACK(self._sentence)

    def _sentence(self, text: bytes, _user: object) -> int:
        if self.replay:
            self.seen += 1
            return 0 if self.stopped_at is not None and self.seen >= self.stopped_at else 1
        try:
            go_on = self.on_sentence(text.decode("utf-8", "replace")) if self.on_sentence else None
        except BaseException as e:  # re-raised by the caller once the native call has returned
            self.error = e
            go_on = False
        self.delivered += 1
        if go_on is False:
            self.stopped_at = self.delivered
            return 0
        return 1


class Model:
    """A .svae model (an ``svae``, ``sllm`` or ``opt`` file), memory-mapped read-only.

    One Model may be shared by any number of threads: each calling thread gets its own native
    context, created on first use. Native calls release the GIL, so threads encode in parallel.
    Use it as a context manager, or call close(), to free the native handles; do not close it
    while other threads are still calling it.

    ``threads`` is the number of worker threads of each context (0 = the machine's physical
    cores). With several Python threads, or several processes per machine (Ray actors), 1 is
    usually right.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 0) -> None:
        if not isinstance(threads, int) or isinstance(threads, bool):
            raise TypeError(f"threads must be an int, got {type(threads).__name__}")
        self.path = os.fspath(path)
        self.threads = threads
        self._lib = L.library()
        self._handle = None
        error = ctypes.create_string_buffer(1024)
        handle = self._lib.svae_model_load(_as_bytes(self.path, "path"), ctypes.byref(L.ModelParams(threads)),
                                           error, len(error))
        if not handle:
            raise error_for(-4, error.value.decode("utf-8", "replace") or f"{self.path}: could not load the model")
        self._handle = handle
        self._local = threading.local()
        self._contexts: weakref.WeakSet[_Context] = weakref.WeakSet()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Frees the model and every context it created (idempotent)."""
        handle, self._handle = getattr(self, "_handle", None), None
        if not handle:
            return
        with self._lock:
            contexts = list(self._contexts)
        for ctx in contexts:
            ctx.free()
        self._lib.svae_model_free(handle)

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self):
        raise TypeError("svae.Model cannot be pickled (it holds native handles): pass the model's path and open "
                        "it where it is used, as svae.ray.Encoder does")

    def __repr__(self) -> str:
        state = "closed" if not self._handle else f"{self.architecture}, hidden_size={self.hidden_size}"
        return f"svae.Model({self.path!r}, {state})"

    def _live(self):
        if not self._handle:
            raise ValueError(f"svae.Model({self.path!r}) is closed")
        return self._handle

    def _context(self) -> _Context:
        self._live()
        ctx = getattr(self._local, "context", None)
        if ctx is None or not ctx.handle:
            ctx = _Context(self, self.threads)
            self._local.context = ctx  # freed when this thread ends, or by close()
            with self._lock:
                self._contexts.add(ctx)
        return ctx

    # ------------------------------------------------------------------ information

    def _info(self, name: str) -> int:
        return getattr(self._lib, "svae_model_" + name)(self._live())

    @property
    def architecture(self) -> str:
        """"svae" (SentenceVAE), "sllm" (sentence-level LLM) or "opt" (token-level OPT)."""
        return self._lib.svae_model_architecture(self._live()).decode()

    @property
    def type_summary(self) -> str:
        """Element types of the weights with their tensor counts, e.g. "f32:34 q8_0:12"."""
        return self._lib.svae_model_type_summary(self._live()).decode()

    hidden_size = property(lambda self: self._info("hidden_size"), doc="Length d of a sentence vector.")
    n_heads = property(lambda self: self._info("n_heads"))
    n_vocab = property(lambda self: self._info("n_vocab"))
    n_encoder_layers = property(lambda self: self._info("n_encoder_layers"))
    n_decoder_layers = property(lambda self: self._info("n_decoder_layers"))
    max_seq_len = property(lambda self: self._info("max_seq_len"), doc="Tokens per sentence, BOS and EOS included.")
    bos_id = property(lambda self: self._info("bos_id"))
    eos_id = property(lambda self: self._info("eos_id"))
    pad_id = property(lambda self: self._info("pad_id"))
    has_tokenizer = property(lambda self: self._info("has_tokenizer") == 1)
    n_tokenizer_vocab = property(lambda self: self._info("n_tokenizer_vocab"),
                                 doc="Ids the tokenizer can spell (<= n_vocab; 0 without a tokenizer).")

    # ------------------------------------------------------------------ text

    def tokenize(self, text: Text) -> list[int]:
        """Token ids of one text (BOS first when the tokenizer adds it)."""
        data = _as_bytes(text, "tokenize: text")
        ctx = self._context()
        buf, n = ctx.fill(ctypes.c_int32, lambda b, c, n: self._lib.svae_tokenize(ctx.handle, data, b, c, n))
        return list(buf[:n])

    def detokenize(self, ids: Sequence[int]) -> str:
        """The text of token ids (special tokens skipped)."""
        arr = _ids_array(ids, "detokenize: ids")
        ctx = self._context()
        ptr = arr.ctypes.data_as(L.c_int32_p)
        buf, n = ctx.fill(ctypes.c_char, lambda b, c, n: self._lib.svae_detokenize(ctx.handle, ptr, len(arr), b, c, n), 1)
        return buf.raw[:n].decode("utf-8")

    def split_sentences(self, text: Text, max_sentences: int = 64, mimic_reference: bool = False) -> list[str]:
        """Sentences of a passage, split like the reference (at most max_sentences). With
        mimic_reference, text after the last sentence end is dropped as the reference does."""
        data = _as_bytes(text, "split_sentences: text")
        ctx = self._context()
        buf, n = ctx.fill(L.Span, lambda b, c, n: self._lib.svae_split_sentences(
            ctx.handle, data, max_sentences, int(bool(mimic_reference)), b, c, n))
        return [data[s.offset:s.offset + s.length].decode("utf-8") for s in buf[:n]]

    # ------------------------------------------------------------------ encode

    def encode(self, texts: Iterable[Text]) -> np.ndarray:
        """Sentence vectors: numpy float32 [len(texts), hidden_size], one row per text (each
        text one sentence). A str instead of a list of texts raises TypeError."""
        items = _text_list(texts, "encode")
        ctx = self._context()
        out = np.empty((len(items), self.hidden_size), dtype=np.float32)
        for start in range(0, len(items), L.MAX_BATCH):
            chunk = items[start:start + L.MAX_BATCH]
            rows = out[start:start + len(chunk)]
            arr = (ctypes.c_char_p * len(chunk))(*chunk)
            written = ctypes.c_size_t(0)
            ctx.check(self._lib.svae_encode_texts(ctx.handle, arr, len(chunk), rows.ctypes.data_as(L.c_float_p),
                                                  rows.size, ctypes.byref(written)))
        return out

    def encode_ids(self, seqs: Iterable[Sequence[int]] | np.ndarray) -> np.ndarray:
        """Sentence vectors of token-id sequences (BOS first, as tokenize returns them):
        numpy float32 [len(seqs), hidden_size]. `seqs` may also be a 2-D integer array
        [n, length], one sentence per row (read in place when it is C-contiguous int32)."""
        flat, lengths = _id_rows(seqs, "encode_ids")
        ctx = self._context()
        n, d = len(lengths), self.hidden_size
        out = np.empty((n, d), dtype=np.float32)
        # the C call's arrays: a pointer into `flat` per sentence, and the lengths (addresses
        # passed as ints: a ctypes cast per argument would cost more than a short sentence)
        starts, at = [], flat.ctypes.data
        for k in lengths:
            starts.append(at)
            at += 4 * k
        ptrs, lens = (ctypes.c_void_p * n)(*starts), (ctypes.c_int32 * n)(*lengths)
        pa, la, oa, word = ctypes.addressof(ptrs), ctypes.addressof(lens), out.ctypes.data, ctypes.sizeof(ctypes.c_void_p)
        for start in range(0, n, L.MAX_BATCH):
            m = min(L.MAX_BATCH, n - start)
            written = ctypes.c_size_t(0)
            ctx.check(self._lib.svae_encode_ids(ctx.handle, pa + word * start, la + 4 * start, m, oa + 4 * d * start, m * d,
                                                ctypes.byref(written)))
        return out

    # ------------------------------------------------------------------ decode

    def _vectors(self, vectors: object, call: str) -> np.ndarray:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2:
            raise ValueError(f"{call} expects vectors as a 2-D array [n, hidden_size], got shape {arr.shape}; "
                             f"for one vector v use {call}([v])")
        return np.ascontiguousarray(arr)

    def _decode_rows(self, vectors: object, call: str, with_text: bool, max_tokens: int, temperature: float,
                     top_k: int, top_p: float, seed: int, batch: int):
        arr = self._vectors(vectors, call)
        if isinstance(batch, bool) or not isinstance(batch, int):
            raise TypeError(f"{call}: batch must be an int, got {type(batch).__name__}")
        ctx = self._context()
        if with_text and not self.has_tokenizer:  # the same error svae_decode gives, before any work
            try:
                ctx.check(self._lib.svae_tokenize(ctx.handle, b"", None, 0, ctypes.byref(ctypes.c_size_t(0))))
            except NoTokenizerError as e:  # named after this call, not the probe that asked the library
                raise NoTokenizerError(f"{call}: {e.message.removeprefix('svae_tokenize: ')}") from None
        params = self._lib.svae_decode_default_params()
        params.max_tokens, params.temperature, params.top_k, params.top_p, params.seed = (
            max_tokens, temperature, top_k, top_p, seed)
        n, d = arr.shape
        per = max(self.max_seq_len, 1)  # a sentence never has more ids (BOS is not generated)
        ids = np.zeros((n, per), dtype=np.int32)
        counts = (ctypes.c_size_t * max(n, 1))()
        status = (ctypes.c_int32 * max(n, 1))()
        ctx.check(self._lib.svae_decode_batch(ctx.handle, arr.ctypes.data_as(L.c_float_p), n, d, ctypes.byref(params),
                                              batch, ids.ctypes.data_as(L.c_int32_p), per, counts, status))
        rows = [ids[i, :counts[i]].tolist() for i in range(n)]
        if not with_text:
            return rows
        # As svae_decode's text: ids the tokenizer cannot spell (a padded embedding) have no text.
        spelled = self.n_tokenizer_vocab
        return [self.detokenize([t for t in r if t < spelled]) for r in rows]

    def decode(self, vectors: object, *, max_tokens: int = 0, temperature: float = 0.0, top_k: int = 0,
               top_p: float = 1.0, seed: int = 0, batch: int = 0) -> list[str]:
        """The text generated from each row of vectors [n, hidden_size]: greedy by default,
        sampled with temperature > 0 (top_k, top_p; row i is sampled with seed + i, so the same
        seed gives the same texts). Up to `batch` rows decode in lockstep (0: the library's
        default, 32; 1: one at a time); the result does not depend on it."""
        return self._decode_rows(vectors, "decode", True, max_tokens, temperature, top_k, top_p, seed, batch)

    def decode_ids(self, vectors: object, *, max_tokens: int = 0, temperature: float = 0.0, top_k: int = 0,
                   top_p: float = 1.0, seed: int = 0, batch: int = 0) -> list[list[int]]:
        """The token ids generated from each row of vectors (EOS last when generated); works
        without a tokenizer. Sampling and `batch` as in decode."""
        return self._decode_rows(vectors, "decode_ids", False, max_tokens, temperature, top_k, top_p, seed, batch)

    def reconstruct(self, texts: Iterable[Text]) -> list[Reconstruction]:
        """Each text encoded and decoded greedily."""
        items = _text_list(texts, "reconstruct")
        ctx = self._context()
        exact = ctypes.c_int32(0)
        results = []
        for data in items:
            buf, n = ctx.fill(ctypes.c_char, lambda b, c, n: self._lib.svae_reconstruct(
                ctx.handle, data, b, c, n, ctypes.byref(exact)), 1)
            results.append(Reconstruction(data.decode("utf-8", "replace"), buf.raw[:n].decode("utf-8"), exact.value == 1))
        return results

    # ------------------------------------------------------------------ perplexity

    def perplexity(self, lines: Iterable[Text], reference: "Model | None" = None,
                   attention: str | None = None) -> Perplexity:
        """Teacher-forced perplexity on ``lines``: one sentence each for an ``svae`` file, one
        passage for ``sllm``, one token sequence for ``opt`` (docs/perplexity.md). ``lines`` may be
        any iterable (a file object too); it is read in chunks, in constant memory.

        ``reference``: another Model with the same architecture, vocabulary and tokenizer (e.g. the
        f32 conversion), scored in lockstep for the KL divergence. ``attention`` (sllm files):
        None (the file's), "bidirectional" or "causal". A line the model cannot score (e.g. a
        sentence over max_seq_len: TooLongError) raises, naming its index."""
        if isinstance(lines, (str, bytes)):
            raise TypeError("perplexity expects a sequence of lines, got one "
                            f"{type(lines).__name__}; wrap it in a list: perplexity([text])")
        if attention not in _ATTENTION:
            raise ValueError(f"attention must be None, 'bidirectional' or 'causal', got {attention!r}")
        if reference is not None and not isinstance(reference, Model):
            raise TypeError(f"reference must be an svae.Model, got {type(reference).__name__}")
        ctx = self._context()
        params = self._lib.svae_perplexity_default_params()
        params.attention = _ATTENTION[attention]
        own_reference = None
        if reference is not None:
            # The same Model as its own reference still needs a second context to run in lockstep.
            ref_ctx = own_reference = _Context(reference, reference.threads) if reference is self else reference._context()
            params.reference = ref_ctx.handle
        try:
            ctx.check(self._lib.svae_perplexity_begin(ctx.handle, ctypes.byref(params)))
            done = 0
            iterator = iter(lines)
            while True:
                chunk = [_as_bytes(t.rstrip("\n") if isinstance(t, str) else t, f"perplexity: lines[{done + i}]")
                         for i, t in zip(range(_PERPLEXITY_CHUNK), iterator)]
                if not chunk:
                    break
                arr = (ctypes.c_char_p * len(chunk))(*chunk)
                n_done = ctypes.c_size_t(0)
                status = self._lib.svae_perplexity_add(ctx.handle, arr, len(chunk), ctypes.byref(n_done))
                if status != _OK:
                    # The library counts lines within this chunk: name the line by its index in `lines`.
                    message = self._lib.svae_context_last_error(ctx.handle).decode("utf-8", "replace")
                    message = re.sub(r"^svae_perplexity_add: lines\[[0-9]+\]: ", "", message)
                    raise error_for(status, f"perplexity: lines[{done + n_done.value}]: {message}")
                done += len(chunk)
            r = L.PerplexityResult()
            ctx.check(self._lib.svae_perplexity_result_get(ctx.handle, ctypes.byref(r)))
        finally:
            if own_reference is not None:
                own_reference.free()
        fields = dict(units=r.units, tokens=r.tokens, sum_ce=r.sum_ce, mean_ce=r.mean_ce, ppl=r.ppl,
                      accuracy=r.correct / r.tokens if r.tokens else 0.0)
        if r.attention:
            fields.update(attention={1: "bidirectional", 2: "causal"}[r.attention], stop_decisions=r.stop_decisions,
                          stop_accuracy=r.stop_correct / r.stop_decisions if r.stop_decisions else 0.0)
        if r.has_reference:
            fields.update({k: getattr(r, k) for k in ("reference_mean_ce", "ppl_ratio", "top1_agreement",
                                                      "kld_mean", "kld_median", "kld_p99", "kld_max")})
        return Perplexity(**fields)

    # ------------------------------------------------------------------ generate (sllm, opt)

    def generate(self, prompt: Text, *, max_sentences: int = 0, max_tokens: int = 0, temperature: float = 0.0,
                 top_k: int = 0, top_p: float = 1.0, seed: int = 0,
                 on_sentence: Callable[[str], object] | None = None) -> str:
        """Continues a prompt with an ``sllm`` file (sentence by sentence, until the stop head
        ends the passage, max_sentences (0 = 16) or max_tokens (0 = 256)) or an ``opt`` file
        (token by token). Returns the generated text without the prompt.

        ``on_sentence(text)`` is called with each finished sentence (an opt file: once, with the
        whole output); return False from it to stop. An exception it raises stops generation
        and is re-raised here."""
        data = _as_bytes(prompt, "generate: prompt")
        ctx = self._context()
        callbacks = _Callbacks(on_sentence)
        params = self._lib.svae_generate_default_params()
        params.max_sentences, params.max_tokens, params.temperature = max_sentences, max_tokens, temperature
        params.top_k, params.top_p, params.seed = top_k, top_p, seed
        params.on_sentence = callbacks.native
        n = ctypes.c_size_t(0)
        out = ctypes.create_string_buffer(1 << 16)
        status = self._lib.svae_generate(ctx.handle, data, ctypes.byref(params), out, len(out), ctypes.byref(n))
        if status == _BUFFER_TOO_SMALL and callbacks.error is None:
            # Generation repeats exactly (greedy or seeded): run again without calling the user.
            callbacks.replay = True
            out = ctypes.create_string_buffer(n.value + 1)
            status = self._lib.svae_generate(ctx.handle, data, ctypes.byref(params), out, len(out), ctypes.byref(n))
        if callbacks.error is not None:
            raise callbacks.error
        ctx.check(status)
        return out.raw[:n.value].decode("utf-8")

    def generate_iter(self, prompt: Text, *, max_sentences: int = 0, max_tokens: int = 0, temperature: float = 0.0,
                      top_k: int = 0, top_p: float = 1.0, seed: int = 0) -> Iterator[str]:
        """Like generate, but yields each sentence as soon as it is finished. Generation runs on
        a helper thread; leaving the loop early (break, close()) stops it at the next sentence."""
        done = object()
        sentences: queue.Queue = queue.Queue()
        stop = threading.Event()

        def deliver(text: str) -> bool:
            sentences.put(text)
            return not stop.is_set()

        def run() -> None:
            try:
                self.generate(prompt, max_sentences=max_sentences, max_tokens=max_tokens, temperature=temperature,
                              top_k=top_k, top_p=top_p, seed=seed, on_sentence=deliver)
                sentences.put(done)
            except BaseException as e:  # handed to the consumer
                sentences.put(e)

        worker = threading.Thread(target=run, name="svae-generate", daemon=True)
        worker.start()
        try:
            while True:
                item = sentences.get()
                if item is done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()
