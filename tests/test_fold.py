"""Folding gathered values per vertex: every compiled path equals numpy's reduceat."""

from __future__ import annotations

import numpy as np
import pytest

from gasengine.kernels import EdgeChunk, fold_chunk


@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum, np.add])
@pytest.mark.parametrize("dtype, shape", [(np.uint8, (64,)), (np.int32, (3, 2)), (np.float64, (4,)), (np.int64, ())])
def test_fold_chunk_equals_reduceat(ufunc, dtype, shape):
    rng = np.random.default_rng(7)
    m, rows = 500, 60
    starts = np.sort(rng.choice(np.arange(1, m), rows - 1, replace=False))
    starts = np.concatenate([[0], starts])
    values = rng.integers(0, 200, (m, *shape)).astype(dtype)
    target = rng.permutation(rows + 5)[:rows]  # rows of the batch in any order
    acc = rng.integers(0, 200, (rows + 5, *shape)).astype(dtype)
    want = acc.copy()
    want[target] = ufunc(want[target], ufunc.reduceat(values, starts, axis=0))
    fold_chunk(ufunc, acc, EdgeChunk(slice(0, m), target, starts, m), values)
    np.testing.assert_array_equal(acc, want)
