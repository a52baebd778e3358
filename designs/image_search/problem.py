"""Problem: find images by text ("a small red circle left of a blue square") or by an
example image, in < 200 ms over a very large corpus. What Recall@K means here, what
the simplest systems reach, and what an index of a billion images costs in memory
before any model is chosen."""

from __future__ import annotations

import numpy as np

from mlsd.designs.image_search import retrieval
from mlsd.designs.image_search import world as world_lib
from mlsd.results import StageResult, Table, metric

GB = 1e9
PIXEL_SIDE = 8  # raw-pixel baseline: 8x8 thumbnails, mean-centred (exact pixels only find the same picture)


def index_bytes_per_vector(dim: int, hnsw_m: int, pq_sub_quantizers: int) -> dict[str, float]:
    """Memory per vector of each index family, the textbook estimate the serving stage
    checks against faiss's own serialised sizes: Flat stores 4·d bytes of float32; HNSW
    adds about 2·M neighbour ids of 4 bytes at its bottom layer (≈ 4·d + 8·M); IVF-PQ
    keeps a code of one byte per sub-quantizer and an 8-byte id."""
    return {"Flat": 4.0 * dim, "HNSW": 4.0 * dim + 8.0 * hnsw_m, "IVF-PQ": float(pq_sub_quantizers + 8)}


def thumbnails(images: np.ndarray) -> np.ndarray:
    """Unit-length, mean-centred 8x8 colour thumbnails: the raw-pixel baseline's vectors."""
    n, side = len(images), images.shape[1]
    step = side // PIXEL_SIDE
    small = images[:, :step * PIXEL_SIDE, :step * PIXEL_SIDE].reshape(n, PIXEL_SIDE, step, PIXEL_SIDE, step, 3)
    flat = small.mean(axis=(2, 4)).reshape(n, -1).astype(np.float32)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-6)


def run(ctx) -> StageResult:
    cfg = ctx.config
    gallery = world_lib.render_gallery(cfg.n_gallery, cfg.image_size, ctx.rng)
    arrays = world_lib.SceneArrays.of(gallery.scenes)
    probes = world_lib.render_gallery(cfg.n_queries, cfg.image_size, ctx.rng)
    text_q = world_lib.text_queries(probes.scenes, ctx.rng)
    text_rel = world_lib.text_relevance_fast(text_q, arrays)
    image_rel = world_lib.image_relevance(probes.scenes, gallery.scenes)
    t_keep, i_keep = text_rel.any(axis=1), image_rel.any(axis=1)

    k = max(retrieval.KS)
    random_text = retrieval.top_by_score(np.zeros(text_rel.shape), k, ctx.rng)
    random_image = retrieval.top_by_score(np.zeros(image_rel.shape), k, ctx.rng)
    oracle_text = retrieval.top_by_score(world_lib.oracle_scores(text_q, arrays), k, ctx.rng)
    pixels = retrieval.exact_top(thumbnails(probes.images), thumbnails(gallery.images), k)
    oracle_image = retrieval.top_by_score(image_rel.astype(float), k, ctx.rng)
    recall10 = {name: float(retrieval.recall_at(top[keep], rel[keep], k).mean()) for name, top, rel, keep in (
        ("random text", random_text, text_rel, t_keep), ("random image", random_image, image_rel, i_keep),
        ("pixels", pixels, image_rel, i_keep), ("oracle image", oracle_image, image_rel, i_keep),
        ("oracle text", oracle_text, text_rel, t_keep))}
    matches_per_query = float(text_rel[t_keep].sum(axis=1).mean())

    per_vector = index_bytes_per_vector(cfg.embed_dim, cfg.hnsw_m, cfg.pq_sub_quantizers)
    mean_qps = cfg.production_searches_per_day / 86_400
    peak_qps = mean_qps * cfg.peak_to_mean
    flat_prod_gb = per_vector["Flat"] * cfg.production_images / GB

    return StageResult(
        stage="problem",
        headline=f"Rank {cfg.production_images:,.0f} images for a text or image query in < 200 ms: "
                 f"Recall@10 and latency, on an index that must fit in memory.",
        metrics=[
            metric("rows", len(gallery), label="gallery images in this run"),
            metric("image_recall_at_10", recall10["pixels"], baseline=recall10["random image"],
                   oracle=recall10["oracle image"], label="image→image Recall@10 of raw pixels (baseline: random)"),
            metric("recall_at_10", recall10["random text"], oracle=recall10["oracle text"],
                   label="text→image Recall@10 of a random ranking"),
            metric("peak_qps", peak_qps, label=f"peak queries per second at {cfg.production_searches_per_day:,.0f}/day"),
            metric("index_memory_gb", flat_prod_gb,
                   label=f"exact (Flat) index of {cfg.production_images:,.0f} {cfg.embed_dim}-d float32 vectors"),
        ],
        tables=[
            Table("Baselines and the oracle on a pilot gallery", ["system", "query", "Recall@10"], [
                ["random ranking", "text", round(recall10["random text"], 3)],
                ["oracle: attribute agreement", "text", round(recall10["oracle text"], 3)],
                ["random ranking", "image", round(recall10["random image"], 3)],
                ["raw pixels (8x8 thumbnails, exact search)", "image", round(recall10["pixels"], 3)],
                ["oracle: same objects", "image", round(recall10["oracle image"], 3)],
            ], caption=f"{len(gallery):,} images; {int(t_keep.sum())} text and {int(i_keep.sum())} image queries with "
                       f"at least one match (a text query matches {matches_per_query:.0f} images on average). "
                       "Recall@10: the share of queries with a matching image in the top 10."),
            Table("Index memory: production corpus and this run", ["index", "bytes / vector",
                                                                   f"{cfg.production_images:,.0g} images (GB)",
                                                                   f"{cfg.scale_large:,} vectors (MB)"],
                  [[name, round(b), round(b * cfg.production_images / GB, 1), round(b * cfg.scale_large / 1e6, 1)]
                   for name, b in per_vector.items()],
                  caption=f"d = {cfg.embed_dim}, HNSW M = {cfg.hnsw_m}, PQ {cfg.pq_sub_quantizers} bytes + 8-byte id. "
                          "The serving stage measures faiss's own sizes against these."),
            Table("Capacity estimate", ["quantity", "value"], [
                ["searches per day", f"{cfg.production_searches_per_day:,.0f}"],
                ["mean rate", f"{mean_qps:,.0f} QPS"],
                ["peak / mean", f"{cfg.peak_to_mean:.1f}x"],
                ["peak rate", f"{peak_qps:,.0f} QPS"],
                ["replicas", "serving stage: peak QPS / measured QPS per worker, and memory per shard"],
            ]),
        ],
        notes=[
            f"Random ranking already finds a match in the top 10 for {recall10['random text']:.0%} of text queries: "
            f"a one-object query matches many images. Recall@1 and precision@10 separate systems better.",
            f"Raw pixels find images with the same objects for {recall10['pixels']:.0%} of image queries: pixels "
            "match colour and layout, not what the objects are.",
            f"A Flat index of {cfg.production_images:,.0f} vectors needs {flat_prod_gb:,.0f} GB of RAM before "
            f"replication; PQ codes need {per_vector['IVF-PQ'] * cfg.production_images / GB:,.0f} GB: at this scale "
            "the index family is a memory decision first.",
        ],
        artifacts={"gallery": gallery},
    )
