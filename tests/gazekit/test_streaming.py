"""Tests of gazekit.streaming: the background reader of the chunked analysis."""

from __future__ import annotations

import threading
from contextlib import closing

import pytest

from gazekit.streaming import _prefetched


def test_prefetched_keeps_order_raises_in_place_and_waits_on_close():
    def items():
        yield from range(3)
        raise RuntimeError("boom")

    got = []
    with pytest.raises(RuntimeError, match="boom"):
        for item in _prefetched(items()):
            got.append(item)
    assert got == [0, 1, 2]

    threads = threading.active_count()
    produced = []

    def slow():
        for i in range(5):
            produced.append(i)
            yield i

    with closing(_prefetched(slow())) as stream:
        assert next(stream) == 0
    assert threading.active_count() == threads  # closing waited for the producer thread
    assert produced == [0, 1]  # one item ahead, no more
