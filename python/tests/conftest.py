"""Fixtures: the models that tools/test-python.sh writes into $SVAE_TEST_MODELS: the random-weight
test models of the Swift test support (svae.svae, sllm.svae, opt.svae, as for the C examples, and
svae.no-tokenizer.svae, an svae.svae-like model without a tokenizer section) and
the shipped models/svae-tiny in q8_0 (tiny.svae) with its samples.txt (tiny-samples.txt)."""
import os
from pathlib import Path

import pytest


def _model(name: str) -> str:
    directory = os.environ.get("SVAE_TEST_MODELS")
    if not directory:
        pytest.fail("SVAE_TEST_MODELS is not set: run the tests through tools/test-python.sh, which writes the "
                    "test models and sets it", pytrace=False)
    path = Path(directory) / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: tools/test-python.sh writes it", pytrace=False)
    return str(path)


@pytest.fixture(scope="session")
def svae_path() -> str:
    return _model("svae.svae")


@pytest.fixture(scope="session")
def no_tokenizer_path() -> str:
    return _model("svae.no-tokenizer.svae")


@pytest.fixture(scope="session")
def sllm_path() -> str:
    return _model("sllm.svae")


@pytest.fixture(scope="session")
def opt_path() -> str:
    return _model("opt.svae")


@pytest.fixture(scope="session")
def tiny_path() -> str:
    return _model("tiny.svae")


@pytest.fixture(scope="session")
def tiny_samples() -> list:
    with open(_model("tiny-samples.txt"), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


@pytest.fixture
def model(svae_path):
    import svae
    with svae.Model(svae_path, threads=1) as m:
        yield m
