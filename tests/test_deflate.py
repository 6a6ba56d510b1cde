"""Parallel deflate: one valid raw deflate stream, the same bytes however the input arrives."""

from __future__ import annotations

import random
import zlib

import pytest

from acudeck import deflate
from acudeck.deflate import ParallelCompressor


def sample(size: int, seed: int = 0) -> bytes:
    """Half text-like (compressible), half random, so that blocks compress unevenly."""
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghij ") for _ in range(rng.randint(2, 9))) for _ in range(300)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(50)) if rng.random() < 0.5 else rng.randbytes(400)
    return bytes(out[:size])


def compress(data: bytes, write_size: int, threads: int) -> bytes:
    compressor = ParallelCompressor(1, threads)
    out = [compressor.compress(data[i : i + write_size]) for i in range(0, len(data), write_size)]
    return b"".join(out) + compressor.flush()


@pytest.mark.parametrize("size", [0, 1, 1000, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 5 * (1 << 16) + 7])
def test_output_inflates_to_the_input_and_does_not_depend_on_writes_or_threads(monkeypatch, size):
    monkeypatch.setattr(deflate, "BLOCK", 1 << 16)
    data = sample(size)
    expected = compress(data, 1 << 20, 1)
    assert zlib.decompress(expected, -15) == data
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(expected) == data and inflater.eof and not inflater.unused_data
    for write_size, threads in [(1 << 16, 2), (1000, 4), (77_777, 3)]:
        assert compress(data, write_size, threads) == expected


def test_blocks_joined_with_their_dictionaries_compress_about_as_well_as_one_stream(monkeypatch):
    monkeypatch.setattr(deflate, "BLOCK", 1 << 16)
    data = sample(20 * (1 << 16), seed=3)
    one_stream = zlib.compressobj(1, zlib.DEFLATED, -15)
    single = one_stream.compress(data) + one_stream.flush()
    assert len(compress(data, 1 << 20, 2)) < 1.01 * len(single)


def test_a_closed_compressor_writes_nothing_more():
    compressor = ParallelCompressor(1, 2)
    compressor.compress(sample(3 * deflate.BLOCK))
    compressor.close()
    assert compressor.flush() == b""
