"""Image search's own algorithms against independent computations: vectorised
relevance and oracle scores against the per-object definitions, Recall@K against a
loop, near-duplicate pairs against brute-force cosine, the symmetric InfoNCE loss
against its formula, index sizing rules, and the production-like embeddings' low
intrinsic dimension."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlsd.designs.image_search import data, indexes, retrieval
from mlsd.designs.image_search import world as world_lib


@pytest.fixture(scope="module")
def small_world():
    rng = np.random.default_rng(3)
    gallery = world_lib.render_gallery(400, 16, rng)
    queries = world_lib.text_queries(world_lib.render_gallery(120, 16, rng).scenes, rng)
    return gallery, queries


def test_vectorised_relevance_and_oracle_equal_the_per_object_definitions(small_world):
    gallery, queries = small_world
    arrays = world_lib.SceneArrays.of(gallery.scenes)
    assert (world_lib.text_relevance_fast(queries, arrays) == world_lib.text_relevance(queries, gallery.scenes)).all()
    slow = np.array([[world_lib.attribute_agreement(q, s) for s in gallery.scenes] for q in queries])
    assert (world_lib.oracle_scores(queries, arrays) == slow).all()
    assert any(q.relation for q in queries) and any(len(q.objects) == 1 for q in queries)


def test_a_query_matches_the_scene_it_describes(small_world):
    rng = np.random.default_rng(5)
    scenes = world_lib.render_gallery(50, 16, rng).scenes
    for scene, query in zip(scenes, world_lib.text_queries(scenes, rng)):
        assert world_lib.matches(query, scene)


def test_recall_and_precision_at_k_equal_a_loop():
    rng = np.random.default_rng(0)
    relevant = rng.random((30, 200)) < 0.03
    top = np.array([rng.permutation(200)[:10] for _ in range(30)])
    for k in (1, 5, 10):
        loop = [float(any(relevant[q, i] for i in top[q, :k])) for q in range(30)]
        assert retrieval.recall_at(top, relevant, k).tolist() == loop
    assert retrieval.precision_at(top, relevant, 10) == pytest.approx(
        [sum(relevant[q, i] for i in top[q]) / 10 for q in range(30)])


def test_exact_top_equals_a_numpy_argsort():
    rng = np.random.default_rng(1)
    gallery, queries = rng.normal(size=(300, 16)).astype(np.float32), rng.normal(size=(20, 16)).astype(np.float32)
    expected = np.argsort(-(queries @ gallery.T), axis=1)[:, :10]
    assert (retrieval.exact_top(queries, gallery, 10) == expected).all()


def test_near_duplicate_pairs_equal_brute_force_cosine():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(80, 12))
    vectors = np.concatenate([base, base[:10] + 0.01 * rng.normal(size=(10, 12))])
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    first, later = data.near_duplicate_pairs(vectors, 0.99)
    cos = vectors @ vectors.T
    expected = {(i, j) for i in range(len(vectors)) for j in range(i + 1, len(vectors)) if cos[i, j] >= 0.99}
    assert set(zip(first.tolist(), later.tolist())) == expected
    assert data.duplicates_to_drop(vectors, 0.99)[80:].all()


def test_symmetric_info_nce_equals_its_formula():
    import torch

    from mlsd.designs.image_search.encoders import DualEncoder, WordVocabulary

    torch.manual_seed(0)
    texts = ["a red circle", "a blue square above a small green cross", "a white triangle", "a large red cross"]
    model = DualEncoder(WordVocabulary(texts), 16, 8)
    images = torch.randint(0, 255, (4, 16, 16, 3), dtype=torch.uint8)
    with torch.no_grad():
        img, txt = model.image(images), model.text(*model.vocab.encode(texts))
        logits = (img @ txt.T * model.logit_scale.exp()).numpy()

    def cross_entropy(rows):
        return float(np.mean([-(r[i] - np.log(np.exp(r).sum())) for i, r in enumerate(rows)]))

    expected = (cross_entropy(logits) + cross_entropy(logits.T)) / 2
    assert float(model.loss(images, texts).detach()) == pytest.approx(expected, rel=1e-5)


def test_index_sizing_rules():
    assert indexes.ivf_lists(100_000, 2.0) == int(2 * math.sqrt(100_000))
    assert indexes.ivf_lists(2000, 4.0) == 2000 // 39  # never under 39 training points a list
    assert indexes.pq_bits(100_000) == 8 and indexes.pq_bits(5000) == 7 and indexes.pq_bits(100) == 4


def test_production_embeddings_have_a_low_intrinsic_dimension_and_share_one_world():
    rng = np.random.default_rng(0)
    vectors = world_lib.production_embeddings(3000, 64, 12, 50, world_seed=9, rng=rng)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    spectrum = np.linalg.svd(vectors - vectors.mean(0), compute_uv=False) ** 2
    assert spectrum[:12].sum() / spectrum.sum() > 0.9  # nearly all variance on the 12-d surface
    other = world_lib.production_embeddings(3000, 64, 12, 50, world_seed=9, rng=np.random.default_rng(1))
    basis = np.linalg.svd(vectors - vectors.mean(0), full_matrices=False)[2][:12]
    residual = (other - other.mean(0)) - (other - other.mean(0)) @ basis.T @ basis
    assert (residual**2).sum() / ((other - other.mean(0)) ** 2).sum() < 0.1  # the same surface
