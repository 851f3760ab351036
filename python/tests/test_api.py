"""The svae Python API against the random-weight test models (hidden 32, vocabulary 288: 4
specials, 256 byte tokens, then the merges "th" = 260 and "the" = 261; BOS = EOS = 2)."""
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import svae

TEXTS = ["Hello there.", "the end", "x"]


def test_the_installed_package_and_its_library_are_under_test():
    # tools/test-python.sh installs with pip and unsets SVAE_LIBRARY: the wheel's copy must load.
    # tools/test-install.sh sets SVAE_LIBRARY to an installed libsvae.so.ABI: that file must load.
    package = Path(svae.__file__).resolve().parent
    assert "site-packages" in package.parts
    explicit = os.environ.get("SVAE_LIBRARY")
    if explicit:
        assert svae.library_path() == explicit
    else:
        assert Path(svae.library_path()).resolve().parent == package / "_lib"
    assert svae.version() == svae.__version__


def test_model_information(model):
    assert (model.architecture, model.hidden_size, model.n_vocab, model.max_seq_len) == ("svae", 32, 288, 24)
    assert (model.bos_id, model.eos_id, model.pad_id, model.has_tokenizer) == (2, 2, 1, True)
    assert model.n_tokenizer_vocab == 262  # the embedding (288) is padded past the tokenizer
    assert model.type_summary.startswith("f32:")
    assert "svae" in repr(model) and "hidden_size=32" in repr(model)


def test_tokenize_detokenize(model):
    assert model.tokenize("the") == [2, 261]
    assert model.tokenize("ab") == [2, 4 + ord("a"), 4 + ord("b")]
    ids = model.tokenize("the cat sat")
    assert model.detokenize(ids) == "the cat sat"
    assert model.detokenize(np.array(ids, dtype=np.int64)) == "the cat sat"
    with pytest.raises(svae.OutOfRangeError) as e:
        model.detokenize([model.n_vocab])
    assert isinstance(e.value, ValueError) and e.value.status == -3 and e.value.message
    with pytest.raises(svae.OutOfRangeError):
        model.detokenize([1 << 40])  # would wrap to a valid id in an int32 array
    with pytest.raises(TypeError):
        model.detokenize([1.0, 2.0])
    with pytest.raises(TypeError):
        model.tokenize(["the"])
    with pytest.raises(svae.InvalidUTF8Error):
        model.tokenize(b"a\x80b")


def test_split_sentences(model):
    assert model.split_sentences("One. Two? Three") == ["One. ", "Two? ", "Three"]
    assert model.split_sentences("One. Two? Three", mimic_reference=True) == ["One. ", "Two? "]
    assert model.split_sentences("A. B. C. D.", max_sentences=2)[0] == "A. "
    assert len(model.split_sentences("A. B. C. D.", max_sentences=2)) == 2


def test_encode_shape_type_and_agreement_with_ids(model):
    v = model.encode(TEXTS)
    assert isinstance(v, np.ndarray) and v.dtype == np.float32 and v.shape == (3, 32) and v.flags.c_contiguous
    assert np.isfinite(v).all() and np.abs(v).max() > 0
    w = model.encode_ids([model.tokenize(t) for t in TEXTS])
    assert np.array_equal(v, w)
    # Rows do not depend on the batch around them.
    for i, t in enumerate(TEXTS):
        np.testing.assert_allclose(model.encode([t])[0], v[i], rtol=0, atol=1e-6)
    assert not np.array_equal(v[0], v[1])
    # Any iterable of str works (numpy string arrays are what Ray Data hands over).
    assert np.array_equal(model.encode(np.array(TEXTS, dtype=object)), v)
    assert np.array_equal(model.encode(t for t in TEXTS), v)
    assert model.encode([]).shape == (0, 32)


def test_encode_refuses_a_str_and_other_non_lists(model):
    for bad in ("Hello there.", b"Hello there."):
        with pytest.raises(TypeError, match=r"encode\(\[text\]\)"):
            model.encode(bad)
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        model.encode(["ok", 3])
    with pytest.raises(TypeError):
        model.encode(5)


def test_encode_bad_inputs_are_typed_errors(model):
    with pytest.raises(svae.InvalidArgumentError, match="NUL"):
        model.encode(["a\0b"])  # a C string would silently end at the NUL
    with pytest.raises(svae.TooLongError) as e:
        model.encode(["ok", "x" * 100])
    assert isinstance(e.value, ValueError) and "24" in e.value.message
    with pytest.raises(svae.InvalidUTF8Error):
        model.encode([b"\xff"])


def test_encode_ids_takes_lists_and_2d_arrays_alike(model):
    texts = ["ab", "cd", "xy"]
    seqs = [model.tokenize(t) for t in texts]
    assert {len(s) for s in seqs} == {3}  # BOS and two byte tokens
    v = model.encode_ids(seqs)
    assert v.shape == (3, 32) and np.array_equal(v, model.encode(texts))
    a = np.array(seqs, dtype=np.int64)
    for form in (a, a.astype(np.int32), a.astype(np.uint16), np.asfortranarray(a), a[::-1][::-1],
                 np.concatenate([a, a], axis=1)[:, :3], [np.array(s, dtype=np.uint32) for s in seqs], (tuple(s) for s in seqs)):
        assert np.array_equal(model.encode_ids(form), v)
    # sentences of different lengths, each row as if alone
    mixed = [model.tokenize("the cat sat"), [2], model.tokenize("x")]
    w = model.encode_ids(mixed)
    for i, s in enumerate(mixed):
        np.testing.assert_allclose(model.encode_ids([s])[0], w[i], rtol=0, atol=1e-6)
    assert model.encode_ids([]).shape == (0, 32) and model.encode_ids(np.zeros((0, 3), dtype=np.int32)).shape == (0, 32)
    # the same checks and errors on both paths, the sentence named by its index
    for bad in ([[2, 5], [2, 1 << 40]], np.array([[2, 5], [2, 1 << 40]])):
        with pytest.raises(svae.OutOfRangeError, match=r"seqs\[1\]: token id 1099511627776"):
            model.encode_ids(bad)  # would wrap to a valid id in an int32 array
    with pytest.raises(svae.OutOfRangeError, match="input 1"):
        model.encode_ids(np.array([[2, 5], [2, model.n_vocab]]))
    for bad in ([[2, 5], [2, 1.5]], np.array([[2.0, 5.0]])):
        with pytest.raises(TypeError, match="int token ids"):
            model.encode_ids(bad)
    with pytest.raises(TypeError, match=r"seqs\[0\]"):
        model.encode_ids(["the"])
    with pytest.raises(ValueError, match=r"seqs\[1\] must be one sequence"):
        model.encode_ids([[2, 5], [[2, 5]]])
    with pytest.raises(TypeError):
        model.encode_ids("the")


def test_decode_and_decode_ids(model):
    v = model.encode(TEXTS)
    texts = model.decode(v)
    ids = model.decode_ids(v)
    assert isinstance(texts, list) and len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert texts == [model.detokenize(i) for i in ids]
    assert all(0 < len(i) <= model.max_seq_len - 1 for i in ids)
    assert model.decode(v.astype(np.float64).tolist()) == texts  # lists and float64 are converted
    assert model.decode_ids(v, max_tokens=2) == [i[:2] for i in ids]
    a = model.decode(v, temperature=1.5, seed=7)
    assert a == model.decode(v, temperature=1.5, seed=7)
    assert model.decode(v[:0]) == []


def test_decode_without_a_tokenizer(model, no_tokenizer_path):
    # The same random weights as svae.svae, without its tokenizer section: ids in, ids out.
    with svae.Model(no_tokenizer_path, threads=1) as bare:
        assert not bare.has_tokenizer and model.has_tokenizer
        seqs = [model.tokenize(t) for t in TEXTS]
        v = bare.encode_ids(seqs)
        assert np.array_equal(v, model.encode_ids(seqs))
        ids = bare.decode_ids(v)
        assert ids == model.decode_ids(v) and len(ids) == 3
        assert all(0 < len(i) <= bare.max_seq_len - 1 and all(isinstance(t, int) for t in i) for i in ids)
        assert bare.decode_ids(v, temperature=1.5, seed=7) == model.decode_ids(v, temperature=1.5, seed=7)
        # Text needs a tokenizer: the documented NoTokenizerError, in plain words naming the file.
        with pytest.raises(svae.NoTokenizerError) as e:
            bare.decode(v)
        assert e.value.status == svae.NoTokenizerError.status == -5
        assert e.value.message == str(e.value)
        assert e.value.message.startswith(f"decode: {no_tokenizer_path}: "), e.value.message
        assert "expected a tokenizer section, found none" in e.value.message
        assert "noTokenizer" not in e.value.message and "Error Domain" not in e.value.message
        with pytest.raises(svae.NoTokenizerError):
            bare.decode(v[:0])  # refused before any work, even for no rows


def test_decode_is_batched_and_independent_of_the_batch(tiny_path, tiny_samples):
    with svae.Model(tiny_path, threads=1) as m:
        base = m.encode(tiny_samples)  # 8 sentences; 40 distinct vectors near them
        noise = np.random.default_rng(1).standard_normal((5, *base.shape)).astype(np.float32)
        v = np.concatenate([base + 0.05 * np.abs(base).mean() * k for k in noise])
        greedy = m.decode_ids(v)
        assert len(greedy) == 40 and all(len(i) > 0 for i in greedy)
        for batch in (1, 3, 32):
            assert m.decode_ids(v, batch=batch) == greedy
        sampled = m.decode(v, temperature=1.2, top_k=20, seed=11)
        assert m.decode(v, temperature=1.2, top_k=20, seed=11, batch=1) == sampled
        # Row i is sampled with seed + i: alone, it gives the same text.
        for i in (0, 7, 39):
            assert m.decode(v[i:i + 1], temperature=1.2, top_k=20, seed=11 + i) == [sampled[i]]
        assert len(set(m.decode(np.repeat(v[:1], 8, axis=0), temperature=1.2, top_k=20, seed=11))) > 1


def test_decode_leaves_out_ids_the_tokenizer_cannot_spell(model):
    # Random weights over a 288-row embedding with a 262-token tokenizer: some generated ids have no text.
    v = np.random.default_rng(3).standard_normal((48, model.hidden_size)).astype(np.float32)
    ids = model.decode_ids(v, temperature=1.0, seed=5)
    texts = model.decode(v, temperature=1.0, seed=5)
    assert any(t >= model.n_tokenizer_vocab for r in ids for t in r)
    assert texts == [model.detokenize([t for t in r if t < model.n_tokenizer_vocab]) for r in ids]


def test_decode_bad_inputs(model):
    v = model.encode(TEXTS)
    with pytest.raises(ValueError, match=r"decode\(\[v\]\)"):
        model.decode(v[0])
    with pytest.raises(svae.BadVectorError):
        model.decode(np.zeros((1, 31), dtype=np.float32))
    bad = v.copy()
    bad[1, 3] = math.nan
    with pytest.raises(svae.BadVectorError):
        model.decode(bad)
    with pytest.raises(svae.InvalidArgumentError):
        model.decode(v, temperature=-1)
    for batch in (-1, 257):
        with pytest.raises(svae.InvalidArgumentError, match="batch_size"):
            model.decode(v, batch=batch)
    with pytest.raises(TypeError):
        model.decode(v, batch="4")


def test_reconstruct(model):
    results = model.reconstruct(TEXTS)
    assert [r.text for r in results] == TEXTS
    v = model.encode(TEXTS)
    assert [r.output for r in results] == model.decode(v)
    # exact means: the greedy ids are the text's ids without BOS, then EOS.
    for r, generated in zip(results, model.decode_ids(v)):
        assert r.exact == (generated == model.tokenize(r.text)[1:] + [model.eos_id])
    with pytest.raises(TypeError):
        model.reconstruct("the end")


def test_reconstruct_with_the_shipped_model(tiny_path, tiny_samples):
    with svae.Model(tiny_path, threads=1) as m:
        results = m.reconstruct(tiny_samples)
        generated = m.decode_ids(m.encode(tiny_samples))
        for r, ids in zip(results, generated):
            assert r.exact == (ids == m.tokenize(r.text)[1:] + [m.eos_id]), r
            if r.exact:
                assert r.output == r.text
        # The trained model reconstructs some samples exactly and not others: both paths run.
        assert 0 < sum(r.exact for r in results) < len(results), results


def test_generate_sllm(sllm_path):
    with svae.Model(sllm_path, threads=1) as m:
        assert m.architecture == "sllm"
        prompt = "The cat sat. It slept."
        text = m.generate(prompt, max_sentences=3, max_tokens=40)
        assert isinstance(text, str) and text
        sentences = []
        assert m.generate(prompt, max_sentences=3, max_tokens=40, on_sentence=sentences.append) == text
        assert 1 <= len(sentences) <= 3
        assert list(m.generate_iter(prompt, max_sentences=3, max_tokens=40)) == sentences
        # Seeded sampling repeats.
        assert m.generate(prompt, temperature=1.3, seed=42) == m.generate(prompt, temperature=1.3, seed=42)
        with pytest.raises(svae.InvalidArgumentError):
            m.generate(prompt, top_p=0)
        with pytest.raises(TypeError):
            m.generate(["x."])


def test_generate_callbacks_stop_and_raise(sllm_path):
    with svae.Model(sllm_path, threads=1) as m:
        prompt = "Hello there."
        full = []
        m.generate(prompt, max_sentences=4, max_tokens=80, on_sentence=full.append)
        if len(full) < 2:
            pytest.fail(f"the test model should generate at least 2 sentences here, got {full}")
        seen = []
        m.generate(prompt, max_sentences=4, max_tokens=80, on_sentence=lambda s: seen.append(s) or False)
        assert seen == full[:1]

        class Boom(Exception):
            pass

        def explode(_):
            raise Boom("from the callback")

        with pytest.raises(Boom):
            m.generate(prompt, max_sentences=4, on_sentence=explode)
        # Leaving the iterator early stops the helper thread.
        it = m.generate_iter(prompt, max_sentences=4, max_tokens=80)
        assert next(it) == full[0]
        it.close()
        assert list(m.generate_iter(prompt, max_sentences=4, max_tokens=80)) == full


def test_generate_opt_and_svae_files(opt_path, model):
    with svae.Model(opt_path, threads=1) as m:
        assert m.architecture == "opt"
        seen = []
        text = m.generate("the cat", max_tokens=12, on_sentence=seen.append)
        assert seen == [text]
        with pytest.raises(svae.ModelError, match="svae or sllm"):
            m.encode(["the cat"])
    with pytest.raises(svae.ModelError, match="sllm"):
        model.generate("x.")


def test_load_errors(svae_path, tmp_path):
    missing = tmp_path / "missing.svae"
    with pytest.raises(svae.ModelError) as e:
        svae.Model(missing)
    assert str(missing) in e.value.message
    garbage = tmp_path / "garbage.svae"
    garbage.write_bytes(b"not a model at all" * 10)
    with pytest.raises(svae.ModelError, match="garbage.svae"):
        svae.Model(garbage)
    with pytest.raises(TypeError):
        svae.Model(svae_path, threads="2")


def test_context_manager_close_and_pickle(svae_path):
    with svae.Model(svae_path, threads=1) as m:
        m.encode(["x"])
        with pytest.raises(TypeError, match="path"):
            pickle.dumps(m)
    with pytest.raises(ValueError, match="closed"):
        m.encode(["x"])
    with pytest.raises(ValueError, match="closed"):
        _ = m.hidden_size
    m.close()  # idempotent
    assert "closed" in repr(m)


def test_errors_are_one_hierarchy():
    for cls in (svae.InvalidArgumentError, svae.OutOfRangeError, svae.ModelError, svae.NoTokenizerError,
                svae.InvalidUTF8Error, svae.TooLongError, svae.BadVectorError, svae.InternalError,
                svae.LibraryNotFoundError):
        assert issubclass(cls, svae.SVAEError)
    assert issubclass(svae.LibraryNotFoundError, OSError)
    assert len({c.status for c in (svae.InvalidArgumentError, svae.OutOfRangeError, svae.ModelError,
                                   svae.NoTokenizerError, svae.InvalidUTF8Error, svae.TooLongError,
                                   svae.BadVectorError, svae.InternalError)}) == 8
