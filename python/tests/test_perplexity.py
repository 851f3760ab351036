"""Model.perplexity (svae_perplexity_begin/_add/_result_get) on the random-weight test models."""
import math

import pytest

import svae


def test_perplexity_is_exp_of_the_mean_cross_entropy(model):
    p = model.perplexity(["the cat sat", "", "the end"])
    assert isinstance(p, svae.Perplexity)
    assert p.units == 2  # the blank line is skipped
    assert p.tokens > 0 and p.sum_ce > 0
    assert p.mean_ce == pytest.approx(p.sum_ce / p.tokens, rel=1e-12)
    assert p.ppl > 1 and p.ppl == pytest.approx(math.exp(p.mean_ce), rel=1e-9)
    assert 0 <= p.accuracy <= 1
    assert p.attention is None and p.kld_max is None  # an svae file, no reference


def test_streaming_in_chunks_gives_the_same_totals(model, monkeypatch):
    lines = ["the cat sat", "Hello there.", "the end", "a b c", "x"]
    whole = model.perplexity(lines)
    monkeypatch.setattr(svae.model, "_PERPLEXITY_CHUNK", 2)
    chunked = model.perplexity(iter(lines))
    assert (chunked.units, chunked.tokens) == (whole.units, whole.tokens) == (5, whole.tokens)
    assert chunked.sum_ce == pytest.approx(whole.sum_ce, rel=1e-12)


def test_against_itself_the_kl_divergence_is_zero(svae_path, model):
    with svae.Model(svae_path, threads=1) as reference:
        for ref in (reference, model):  # another Model of the file, and the same Model object
            q = model.perplexity(["the cat sat", "the end"], reference=ref)
            assert q.kld_max == 0 and q.kld_mean == 0
            assert q.top1_agreement == 1 and q.ppl_ratio == 1
            assert q.reference_mean_ce == pytest.approx(q.mean_ce, rel=1e-12)


def test_a_too_long_line_raises_too_long_error_naming_it(model, monkeypatch):
    with pytest.raises(svae.TooLongError, match=r"^perplexity: lines\[1\]: .*max_seq_len") as e:
        model.perplexity(["the end", "the cat sat " * 40])
    assert isinstance(e.value, ValueError) and e.value.status == -7
    # In a later chunk, the index is still the line's index in the whole input.
    monkeypatch.setattr(svae.model, "_PERPLEXITY_CHUNK", 2)
    with pytest.raises(svae.TooLongError, match=r"^perplexity: lines\[4\]: ") as e:
        model.perplexity(["the end", "x", "a b c", "the end", "the cat sat " * 40])
    assert "lines[0]" not in str(e.value)


def test_bad_arguments(model):
    with pytest.raises(TypeError, match="wrap it in a list"):
        model.perplexity("the end")
    with pytest.raises(ValueError, match="attention"):
        model.perplexity(["the end"], attention="sideways")
    with pytest.raises(TypeError, match="reference"):
        model.perplexity(["the end"], reference="model.svae")


def test_sllm_reports_the_stop_head(sllm_path):
    with svae.Model(sllm_path, threads=1) as m:
        p = m.perplexity(["The cat sat. It slept. Then it woke."], attention="causal")
    assert p.attention == "causal" and p.stop_decisions > 0 and 0 <= p.stop_accuracy <= 1
