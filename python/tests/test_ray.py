"""svae.ray on a local Ray cluster (2 CPUs, 2 encoder actors): the vectors of a single-process run,
in order, for 5,000 sentences; and the documented text file → parquet pipeline."""
import numpy as np
import pytest
import ray  # tools/test-python.sh installs ray[data]; a missing ray fails these tests, never skips them

import svae
import svae.ray

N = 5000
BATCH = 256


def sentences(n):
    """n distinct short sentences (each fits the test model's 24 tokens)."""
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "it"]
    out = []
    state = 12345
    for i in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        k = 1 + (state >> 60) % 3
        out.append(" ".join([str(i)] + [words[(state >> (8 * j)) % len(words)] for j in range(k)]) + ".")
    return out


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    yield ray
    ray.shutdown()


def test_encoder_on_a_plain_batch(svae_path):
    encoder = svae.ray.Encoder(svae_path, text_column="sentence", vector_column="v")
    texts = np.array(sentences(10), dtype=object)
    out = encoder({"sentence": texts, "id": np.arange(10)})
    assert set(out) == {"sentence", "id", "v"}
    assert out["v"].dtype == np.float32 and out["v"].shape == (10, 32)
    with svae.Model(svae_path, threads=1) as m:
        assert np.array_equal(out["v"], m.encode(list(texts)))
    with pytest.raises(ValueError, match="'sentence'"):
        svae.ray.Encoder(svae_path)({"sentence": texts})
    with pytest.raises(TypeError, match="numpy"):
        encoder([{"sentence": "x"}])


def test_two_actors_give_the_single_process_vectors_in_order(cluster, svae_path):
    texts = sentences(N)
    assert len(set(texts)) == N
    with svae.Model(svae_path, threads=1) as m:
        # The single-process run: the same batches, one after the other.
        expected = np.concatenate([m.encode(texts[i:i + BATCH]) for i in range(0, N, BATCH)])
        assert np.allclose(expected, m.encode(texts), rtol=0, atol=1e-5)
    ds = ray.data.from_items([{"text": t} for t in texts], override_num_blocks=8)
    encoded = svae.ray.encode_dataset(ds, svae_path, concurrency=2, batch_size=BATCH)
    got_texts, got_vectors = [], []
    for b in encoded.iter_batches(batch_size=1000, batch_format="numpy"):
        got_texts += list(b["text"])
        got_vectors.append(b["vector"])
    vectors = np.concatenate(got_vectors)
    assert got_texts == texts
    assert vectors.dtype == np.float32 and vectors.shape == (N, 32)
    assert np.array_equal(vectors, expected), f"max |ray - single| = {np.abs(vectors - expected).max()}"


def test_documented_pipeline_text_file_to_parquet(cluster, svae_path, tmp_path):
    texts = sentences(600)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(texts) + "\n")
    ds = ray.data.read_text(str(corpus))
    # One actor: the read and write tasks need the cluster's other CPU (docs/python.md).
    svae.ray.encode_dataset(ds, svae_path, concurrency=1, batch_size=100).write_parquet(str(tmp_path / "vectors"))
    back = ray.data.read_parquet(str(tmp_path / "vectors")).take_all()
    assert sorted(r["text"] for r in back) == sorted(texts)
    with svae.Model(svae_path, threads=1) as m:
        by_text = dict(zip(texts, m.encode(texts)))
    for r in back:
        np.testing.assert_allclose(r["vector"], by_text[r["text"]], rtol=0, atol=1e-5)
