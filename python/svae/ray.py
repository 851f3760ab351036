"""Sentence encoding on Ray Data: one svae.Model per actor, batches through ``map_batches``.

    import ray, svae.ray

    ds = ray.data.read_text("corpus.txt")                  # one sentence per line, column "text"
    ds = svae.ray.encode_dataset(ds, "/shared/svae-tiny.svae", concurrency=2)
    ds.write_parquet("/shared/vectors")                     # columns "text" and "vector"

Each actor opens the model file itself (a read-only mmap, so actors on one machine share its
pages through the page cache): the path must name the file on every node that runs an actor,
e.g. shared storage, or a path relative to a ``runtime_env`` ``working_dir`` that carries the file.
Rows keep their order when ``ray.data.DataContext.get_current().execution_options.preserve_order``
is True. encode_dataset needs ``ray[data]``; importing this module and the Encoder do not.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .model import Model

if TYPE_CHECKING:  # ray is only needed to run a pipeline, not to build the Encoder
    import ray.data

__all__ = ["Encoder", "encode_dataset"]


class Encoder:
    """A callable class for ``ray.data.Dataset.map_batches`` (batch_format="numpy"): takes a batch
    with the text column and returns it with ``vector_column`` added, a float32 array
    [rows, hidden_size] that Ray stores as a fixed-shape tensor column.

    ``threads`` is the worker threads of the model's context in each actor (give the actor as
    many CPUs: encode_dataset does).
    """

    def __init__(self, model_path: str | os.PathLike[str], text_column: str = "text", vector_column: str = "vector",
                 threads: int = 1) -> None:
        self.model = Model(model_path, threads=threads)
        self.text_column = text_column
        self.vector_column = vector_column

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not isinstance(batch, dict):
            raise TypeError(f"svae.ray.Encoder expects numpy batches (map_batches(..., batch_format=\"numpy\")), "
                            f"got {type(batch).__name__}")
        if self.text_column not in batch:
            raise ValueError(f"svae.ray.Encoder: the batch has no column {self.text_column!r} "
                             f"(columns: {', '.join(map(repr, batch))}); pass text_column=")
        out = dict(batch)
        out[self.vector_column] = self.model.encode(batch[self.text_column])
        return out


def encode_dataset(ds: "ray.data.Dataset", model_path: str | os.PathLike[str], *, concurrency: int = 1,
                   batch_size: int = 256, num_cpus: float | None = None, **encoder_options: Any) -> "ray.data.Dataset":
    """``ds`` with a vector column: ``concurrency`` actors, each an Encoder(model_path,
    **encoder_options) encoding ``batch_size`` rows at a time and reserving ``num_cpus`` CPUs
    (default: its ``threads``, 1 unless given). Actors hold their CPUs for the whole run, so leave
    CPUs for the tasks that read and write the data: on a machine of N CPUs, concurrency <= N - 1
    when the pipeline reads files."""
    from ray.data import ActorPoolStrategy

    threads = encoder_options.get("threads", 1)
    return ds.map_batches(
        Encoder,
        fn_constructor_args=(os.fspath(model_path),),
        fn_constructor_kwargs=encoder_options,
        batch_format="numpy",
        batch_size=batch_size,
        compute=ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus if num_cpus is not None else max(threads, 1),
    )
