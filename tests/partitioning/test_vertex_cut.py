"""VertexCut: replicas, masters, mirrors and metrics against brute-force definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partitioning import VertexCut, partition
from partitioning import vertex_cut as vc


@st.composite
def assignments(draw):
    n = draw(st.integers(0, 30))
    m = draw(st.integers(0, 120)) if n else 0
    P = draw(st.integers(1, 9))
    src = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)) if n else [], dtype=np.int64)
    dst = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)) if n else [], dtype=np.int64)
    parts = np.array(draw(st.lists(st.integers(0, P - 1), min_size=m, max_size=m)), dtype=np.int64)
    return src, dst, n, parts, P


def _brute_replicas(src, dst, n, parts):
    reps = [set() for _ in range(n)]
    for s, d, p in zip(src.tolist(), dst.tolist(), parts.tolist()):
        reps[s].add(p)
        reps[d].add(p)
    return reps


@given(assignments())
@settings(max_examples=150, deadline=None)
def test_structures_match_brute_force(case):
    src, dst, n, parts, P = case
    cut = VertexCut.from_assignment(src, dst, n, parts, P)
    reps = _brute_replicas(src, dst, n, parts)
    for v in range(n):
        expected = sorted(reps[v]) if reps[v] else [int(cut.master[v])]
        assert cut.parts_of(v).tolist() == expected
        assert cut.master[v] in expected  # exactly one master, one of its replicas
        assert cut.has_edges[v] == bool(reps[v])
    for p in range(P):
        assert cut.part_vertices(p).tolist() == [v for v in range(n) if p in cut.parts_of(v).tolist()]
        assert cut.part_edges(p).tolist() == np.flatnonzero(parts == p).tolist()
        assert cut.masters_in(p).tolist() == np.flatnonzero(cut.master == p).tolist()
    # metrics by their definitions
    touched = [v for v in range(n) if reps[v]]
    if touched:
        assert cut.replication_factor == pytest.approx(sum(len(reps[v]) for v in touched) / len(touched))
    else:
        assert cut.replication_factor == 1.0
    sizes = np.bincount(parts, minlength=P)
    assert cut.edge_balance == pytest.approx(sizes.max() / sizes.mean() if sizes.sum() else 1.0)
    masters = np.bincount(cut.master, minlength=P)
    assert cut.master_balance == pytest.approx(masters.max() / masters.mean() if n else 1.0)
    mirrors = sum(len(cut.parts_of(v)) - 1 for v in range(n))
    assert cut.num_mirrors == mirrors
    assert cut.bytes_per_superstep(12) == 2 * mirrors * 12


@given(assignments())
@settings(max_examples=150, deadline=None)
def test_mirror_lists_cover_every_non_master_replica_once(case):
    src, dst, n, parts, P = case
    cut = VertexCut.from_assignment(src, dst, n, parts, P)
    counts = cut.mirror_counts()
    assert counts.shape == (P, P) and np.trace(counts) == 0 and counts.sum() == cut.num_mirrors
    seen = set()
    for p in range(P):
        ptr, verts = cut.mirrors(p)
        assert ptr.shape == (P + 1,) and ptr[0] == 0 and ptr[-1] == verts.size
        for q in range(P):
            group = verts[ptr[q] : ptr[q + 1]].tolist()
            assert group == sorted(group)
            assert len(group) == counts[p, q]
            for v in group:
                assert cut.master[v] == q != p
                assert p in cut.parts_of(v).tolist()
                seen.add((v, p))
    expected = {(v, int(p)) for v in range(n) for p in cut.parts_of(v) if p != cut.master[v]}
    assert seen == expected


def test_masters_are_balanced_better_than_hashing(rmat12):
    n = rmat12[2]
    for strategy in ("random", "hdrf", "grid"):
        cut = partition(rmat12, 8, strategy)
        assert cut.master_balance < 1.01
        # the previous choice (a hash of the vertex among its replicas)
        counts = cut.num_replicas
        h = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(33)
        hashed = cut.replica_parts[cut.replica_ptr[:-1] + (h % counts.astype(np.uint64)).astype(np.int64)]
        hashed_balance = np.bincount(hashed, minlength=8).max() / (n / 8)
        assert cut.master_balance <= hashed_balance


def test_single_replica_vertices_keep_their_part():
    # vertex 0 only in part 1: its master must be part 1 even though part 1 is busier
    cut = VertexCut.from_assignment([0, 1, 2, 3], [1, 2, 3, 1], 4, [1, 1, 0, 0], 2)
    assert cut.master[0] == 1 and cut.master[3] == 0


def test_choose_masters_greedy_on_a_hand_made_case():
    # replica lists 0:{0} 1:{0,1} 2:{0,1} 3:{0,1,2} 4:{} (isolated).
    # 0 is fixed on part 0 (loads 1,0,0); then by replica count: 1 -> part 1
    # (1,1,0), 2 -> part 0, first of the least loaded in {0,1} (2,1,0),
    # 3 -> part 2 (2,1,1); the isolated 4 -> part 1, first least loaded.
    ptr = np.array([0, 1, 3, 5, 8, 8])
    parts = np.array([0, 0, 1, 0, 1, 0, 1, 2], dtype=np.int32)
    assert vc.choose_masters(ptr, parts, 3).tolist() == [0, 1, 0, 2, 1]


def test_isolated_vertices_get_the_least_loaded_parts():
    cut = VertexCut.from_assignment([0, 1], [1, 0], 6, [0, 0], 3)
    assert cut.master[:2].tolist() == [0, 0]
    assert sorted(cut.master[2:].tolist()) == [1, 1, 2, 2]
    assert cut.master_balance == 1.0
    for v in range(2, 6):
        assert cut.parts_of(v).tolist() == [cut.master[v]]
        assert v in cut.part_vertices(int(cut.master[v])).tolist()


def test_sparse_replica_path_matches_dense(monkeypatch, rmat12):
    src, dst, n = rmat12
    parts = partition(rmat12, 16, "hdrf").edge_part
    dense = VertexCut.from_assignment(src, dst, n, parts, 16)
    monkeypatch.setattr(vc, "_DENSE_LIMIT", 0)
    sparse = VertexCut.from_assignment(src, dst, n, parts, 16)
    assert dense == sparse


def test_equality_and_repr():
    a = VertexCut.from_assignment([0, 1], [1, 2], 3, [0, 1], 2, "x")
    b = VertexCut.from_assignment([0, 1], [1, 2], 3, [0, 1], 2, "x")
    c = VertexCut.from_assignment([0, 1], [1, 2], 3, [0, 0], 2, "x")
    assert a == b and a != c and a != "cut"
    assert "replication_factor=1.333" in repr(a) and "strategy='x'" in repr(a)
    with pytest.raises(TypeError):
        hash(a)


def test_bytes_per_superstep_scales_with_value_size(rmat12):
    cut = partition(rmat12, 8, "grid")
    assert cut.bytes_per_superstep(8) == 2 * cut.num_mirrors * 8
    assert cut.bytes_per_superstep(80) == 10 * cut.bytes_per_superstep(8)
    with pytest.raises(ValueError, match="value_bytes"):
        cut.bytes_per_superstep(-1)
