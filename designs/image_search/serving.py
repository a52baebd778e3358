"""Serving: which faiss index, and what it costs as the corpus grows. Four families
side by side on production-like embeddings at two corpus sizes (build time, bytes per
vector, Recall@10 against exact search, queries per second on one thread), the query
path on the trained encoder timed against 200 ms, and metadata filters applied before
or after the search."""

from __future__ import annotations

import numpy as np

from mlsd.blocks.serving.capacity import replicas_for
from mlsd.blocks.serving.latency import LATENCY_COLUMNS, measure_latency
from mlsd.designs.image_search import indexes, retrieval
from mlsd.designs.image_search import world as world_lib
from mlsd.designs.image_search.problem import index_bytes_per_vector
from mlsd.results import Chart, Series, StageResult, Table, metric
from mlsd.threads import single_threaded

STUDY_VAL_QUERIES = 300  # production-like queries that choose each family's setting
STUDY_TEST_QUERIES = 1000  # and the ones its figures are reported on
FILTER_OVERFETCH = (1, 10)  # post-filtering fetches this many times 10 before dropping non-matching images


def cost_study(cfg, rng: np.random.Generator, world_seed: int, progress) -> dict:
    """Each family at both corpus sizes: settings chosen on validation queries, figures on test queries."""
    draw = lambda n: world_lib.production_embeddings(n, cfg.embed_dim, cfg.latent_dim, cfg.latent_clusters,
                                                     world_seed, rng)
    corpus, val, test = draw(cfg.scale_large), draw(STUDY_VAL_QUERIES), draw(STUDY_TEST_QUERIES)
    out = {}
    for n in progress.track([cfg.scale_small, cfg.scale_large], total=2, description="building faiss indexes"):
        families = indexes.build_families(corpus[:n], cfg, rng)
        exact_val = families[0].index.search(val, indexes.K)[1]
        exact_test = families[0].index.search(test, indexes.K)[1]
        rows = []
        for family in families:
            val_points = indexes.sweep(family, val, exact_val)
            test_points = indexes.sweep(family, test, exact_test)
            chosen = indexes.cheapest_meeting(val_points, cfg.recall_objective)
            rows.append({"family": family, "val": val_points, "test": test_points,
                         "chosen": None if chosen is None else next(p for p in test_points if p.value == chosen.value)})
        out[n] = {"rows": rows, "test": test, "flat": families[0]}
    return out


def best_ann(study_rows: list[dict]) -> dict:
    """The approximate family whose chosen setting is fastest (on its test queries)."""
    candidates = [r for r in study_rows[1:] if r["chosen"] is not None]
    return max(candidates, key=lambda r: r["chosen"].qps)


def filter_study(encoder, gallery_vectors: np.ndarray, tags, queries, relevance: np.ndarray) -> list[list]:
    """A metadata filter on each query's first object (its colour and shape, read from
    uploaders' tags), applied inside the search (a faiss IDSelector over the allowed
    ids) or to the results after it. Reports results returned out of 10, Recall@10
    against the truth, and ms per query, one thread."""
    import time

    import faiss

    index = faiss.IndexFlatIP(gallery_vectors.shape[1])
    index.add(gallery_vectors)
    vectors = encoder.embed_texts([q.text for q in queries])
    wanted = [(q.objects[0].colour, q.objects[0].shape) for q in queries]
    allowed = {w: np.array([i for i, t in enumerate(tags) if w in t], dtype=np.int64) for w in set(wanted)}
    allowed_sets = {w: set(ids.tolist()) for w, ids in allowed.items()}
    keep = relevance.any(axis=1)
    rows = []

    def row(name, results, seconds):
        filled = np.array([len(r) for r in results])
        found = np.array([bool(relevance[q, r].any()) if len(r) else False for q, r in enumerate(results)])
        rows.append([name, round(float(filled.mean()), 2), round(float(found[keep].mean()), 3),
                     round(1000 * seconds / len(results), 3)])

    with single_threaded():
        start = time.perf_counter()
        unfiltered = index.search(vectors, indexes.K)[1]
        row("no filter", list(unfiltered), time.perf_counter() - start)
        start = time.perf_counter()
        pre = []
        for q, vector in enumerate(vectors):
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed[wanted[q]]))
            found = index.search(vector[None], indexes.K, params=params)[1][0]
            pre.append(found[found >= 0])
        row("pre-filter (IDSelector inside the search)", pre, time.perf_counter() - start)
        for factor in FILTER_OVERFETCH:
            start = time.perf_counter()
            top = index.search(vectors, indexes.K * factor)[1]
            post = [np.array([i for i in top[q] if i in allowed_sets[wanted[q]]][:indexes.K], dtype=np.int64)
                    for q in range(len(queries))]
            row(f"post-filter the top {indexes.K * factor}", post, time.perf_counter() - start)
    return rows


def batched_throughput(index, queries: np.ndarray) -> tuple[float, int]:
    """Queries per second when a batch is searched at once on the threads training may
    use (two, or one on a busy machine), and that thread count."""
    import time

    import faiss

    from mlsd.threads import training_threads

    before, threads = faiss.omp_get_max_threads(), training_threads()
    faiss.omp_set_num_threads(threads)
    try:
        start = time.perf_counter()
        index.search(queries, indexes.K)
        return len(queries) / (time.perf_counter() - start), threads
    finally:
        faiss.omp_set_num_threads(before)


def query_path(encoder, index, captions: list[str]):
    """One request: text in, ten (image id, caption) out. The text tower and the index
    search are the model calls; tokenising and building the response are the overhead."""
    def handle(text: str):
        vector = encoder.embed_texts([text])
        _, ids = index.search(vector, indexes.K)
        return [(int(i), captions[i]) for i in ids[0] if i >= 0]
    return handle


def bare_calls(encoder, index, queries: list[str]):
    """The compute floor's requests: token ids prepared beforehand, then the text tower's
    forward pass and the index search, nothing else."""
    import torch

    prepared = [encoder.vocab.encode([q]) for q in queries]

    def handle(ids_offsets):
        with torch.no_grad():
            vector = encoder.text(*ids_offsets).numpy()
        index.search(vector, indexes.K)
    return handle, prepared


def run(ctx) -> StageResult:
    import faiss

    cfg = ctx.config
    encoder, gallery_vectors = ctx.need("encoder"), ctx.need("gallery_vectors")
    gallery, tags = ctx.need("gallery"), ctx.need("tags")
    _, test_queries = ctx.need("queries")["test"]
    relevance = ctx.need("relevance")["text"]
    world_seed = int(ctx.rng.integers(2**31 - 1))

    study = cost_study(cfg, ctx.rng, world_seed, ctx.progress)
    small, large = study[cfg.scale_small], study[cfg.scale_large]
    best_small, best_large = best_ann(small["rows"]), best_ann(large["rows"])
    flat_qps = {n: s["rows"][0]["test"][0].qps for n, s in study.items()}
    speedup = {cfg.scale_small: best_small["chosen"].qps / flat_qps[cfg.scale_small],
               cfg.scale_large: best_large["chosen"].qps / flat_qps[cfg.scale_large]}
    compressed = large["rows"][-1]
    flat_bytes = large["rows"][0]["family"].bytes_per_vector
    compression = flat_bytes / compressed["family"].bytes_per_vector
    compressed_point = compressed["chosen"] or max(compressed["test"], key=lambda p: p.recall)

    # single queries on one thread at the larger size: exact against the best ANN setting
    probe = large["test"][: cfg.serving_requests]
    best_large["family"].set(best_large["chosen"].value)
    with single_threaded():
        single = {name: measure_latency(lambda v: family.index.search(v[None], indexes.K), probe,
                                        warmup=min(50, len(probe) // 3))
                  for name, family in (("Flat (exact)", large["flat"]), (best_large["family"].name, best_large["family"]))}
    batched_qps, batch_threads = batched_throughput(best_large["family"].index, large["test"])

    # the query path over the real gallery: trained text tower + IVF index with nprobe chosen on validation
    nlist = indexes.ivf_lists(len(gallery_vectors), cfg.ivf_lists_per_sqrt_n)
    gallery_index = faiss.IndexIVFFlat(faiss.IndexFlatIP(gallery_vectors.shape[1]), gallery_vectors.shape[1],
                                       nlist, faiss.METRIC_INNER_PRODUCT)
    indexes.trained_ivf(gallery_index, gallery_vectors, nlist, ctx.rng)
    _, val_queries = ctx.need("queries")["val"]
    val_vectors = encoder.embed_texts([q.text for q in val_queries])
    exact_val = retrieval.exact_top(val_vectors, gallery_vectors, indexes.K)
    gallery_family = indexes.Family("gallery IVF", gallery_index, "nprobe", indexes.NPROBES, 0.0, 0.0)
    gallery_points = indexes.sweep(gallery_family, val_vectors, exact_val)
    gallery_choice = indexes.cheapest_meeting(gallery_points, cfg.recall_objective) or gallery_points[-1]
    gallery_family.set(gallery_choice.value)
    texts = [test_queries[i % len(test_queries)].text for i in range(cfg.serving_requests)]
    with single_threaded():
        path = measure_latency(query_path(encoder, gallery_index, gallery.captions), texts,
                               warmup=min(50, len(texts) // 3))
        floor_handle, prepared = bare_calls(encoder, gallery_index, texts)
        floor = measure_latency(floor_handle, prepared, warmup=min(50, len(texts) // 3))
    peak_qps = cfg.production_searches_per_day / 86_400 * cfg.peak_to_mean
    replicas = replicas_for(peak_qps, path.throughput_rps)
    filters = filter_study(encoder, gallery_vectors, tags, test_queries, relevance)
    estimate = index_bytes_per_vector(cfg.embed_dim, cfg.hnsw_m, cfg.pq_sub_quantizers)

    def family_rows(n):
        rows = []
        for r in study[n]["rows"]:
            f, c = r["family"], r["chosen"]
            rows.append([f.name, f"{n:,}", round(f.build_s, 2), round(f.bytes_per_vector, 1),
                         "" if not f.setting else (f"{f.setting} {c.value}" if c else "objective not met"),
                         round(c.recall if c else max(p.recall for p in r["test"]), 3),
                         round(c.qps if c else 0.0), round((c.qps if c else 0.0) / flat_qps[n], 1)])
        return rows

    chart = Chart(f"Recall@10 against queries/s, one thread, {cfg.scale_large:,} vectors", "queries per second",
                  "Recall@10", [Series(r["family"].name, [p.qps for p in r["test"]],
                                       [p.recall for p in r["test"]]) for r in large["rows"][1:]])
    return StageResult(
        stage="serving",
        headline=f"At {cfg.scale_large:,} vectors {best_large['family'].name} reaches Recall@10 "
                 f"{best_large['chosen'].recall:.3f} at {speedup[cfg.scale_large]:.0f}x exact search's speed "
                 f"({speedup[cfg.scale_small]:.0f}x at {cfg.scale_small:,}); PQ codes take {compression:.0f}x less "
                 f"memory; a query takes {path.p99_ms:.1f} ms p99 against 200.",
        metrics=[
            *path.metrics(budget_ms=ctx.design.latency_budget_ms),
            metric("compute_floor_p50_ms", floor.p50_ms, label="text tower + index search alone, p50"),
            metric("overhead_ratio", path.p50_ms / floor.p50_ms),
            metric("ann_recall_at_10", best_large["chosen"].recall, target=cfg.recall_objective,
                   label=f"Recall@10 of {best_large['family'].name} against exact search, {cfg.scale_large:,} vectors"),
            metric("ann_speedup", speedup[cfg.scale_large],
                   label=f"best ANN at the objective over exact search, {cfg.scale_large:,} vectors"),
            metric("ann_speedup_small", speedup[cfg.scale_small],
                   label=f"the same at {cfg.scale_small:,} vectors"),
            metric("compression_ratio", compression, label="Flat bytes per vector over IVF-PQ's"),
            metric("compressed_recall_at_10", compressed_point.recall,
                   label="Recall@10 of IVF-PQ with exact re-ranking"),
            metric("replicas_needed", replicas, label=f"workers for {peak_qps:,.0f} QPS peak at 60% utilisation"),
        ],
        tables=[
            Table("Index families at two corpus sizes (settings chosen on validation queries)",
                  ["index", "vectors", "build s", "B/vec", "setting", "R@10", "q/s", "× exact"], family_rows(cfg.scale_small) + family_rows(cfg.scale_large),
                  caption=f"Production-like {cfg.embed_dim}-d embeddings (clustered, intrinsic dimension "
                          f"{cfg.latent_dim}); the cheapest setting with validation Recall@10 ≥ "
                          f"{cfg.recall_objective}, reported on {STUDY_TEST_QUERIES} test queries; one thread. Bytes "
                          "per vector: faiss's serialised index over vectors (IVF-PQ: codes and ids; the exact "
                          "vectors it re-ranks with stay on SSD)."),
            Table("Bytes per vector: estimate against faiss", ["index", "estimate", "measured"], [
                ["Flat", estimate["Flat"], round(flat_bytes, 1)],
                ["HNSW", estimate["HNSW"], round(large["rows"][2]["family"].bytes_per_vector, 1)],
                ["IVF-PQ", estimate["IVF-PQ"], round(compressed["family"].bytes_per_vector, 1)]]),
            Table(f"Single queries on one thread, {cfg.scale_large:,} vectors", LATENCY_COLUMNS,
                  [rep.row(name) for name, rep in single.items()],
                  caption=f"Batched on {batch_threads} thread{'s' if batch_threads > 1 else ''}, "
                          f"{best_large['family'].name} serves {batched_qps:,.0f} queries/s."),
            Table("Query path on the trained encoder", LATENCY_COLUMNS,
                  [path.row(f"text → ten images (IVF{nlist}, nprobe {gallery_choice.value})"),
                   floor.row("compute floor: text tower + search")],
                  caption=f"{len(gallery):,} gallery images; nprobe chosen on validation queries for Recall@10 ≥ "
                          f"{cfg.recall_objective} against exact search."),
            Table("Colour-and-shape filter from metadata tags: before or after the search",
                  ["strategy", "results of 10", "Recall@10", "ms / query"], filters,
                  caption="Recall@10 against the truth: a match in the results. Tags come from uploaders' "
                          "captions, which miss objects, so any filter also drops untagged matches."),
        ],
        charts=[chart],
        notes=[
            f"Exact search reads every vector: {flat_qps[cfg.scale_small]:,.0f} queries/s at {cfg.scale_small:,} "
            f"vectors, {flat_qps[cfg.scale_large]:,.0f} at {cfg.scale_large:,} (cost grows with N). The best ANN "
            f"setting reads a few lists or graph neighbours, so its speed-up grows from "
            f"{speedup[cfg.scale_small]:.0f}x to {speedup[cfg.scale_large]:.0f}x.",
            f"PQ codes cut memory {compression:.0f}x; alone they blur neighbours apart, so the top "
            f"{indexes.RERANK_DEPTH} are re-scored with exact vectors read from SSD "
            f"(Recall@10 {compressed_point.recall:.3f}).",
            "Post-filtering returns fewer than ten results when few images pass the filter; over-fetching "
            "fills more of the page at a cost, and filtering inside the search (IDSelector) fills it whenever "
            "ten tagged images exist.",
            "HNSW cannot delete: a removed image becomes a tombstone skipped at search time, and the graph is "
            "rebuilt when tombstones pile up. IVF lists delete in place.",
        ],
        artifacts={"gallery_index": gallery_index, "nprobe": gallery_choice.value},
        exports={"ann_study": {
            "vectors": np.array([n for n, s in study.items() for r in s["rows"] for _ in r["test"]]),
            "index": np.array([r["family"].name for s in study.values() for r in s["rows"] for _ in r["test"]]),
            "setting": np.array([p.value if p.value is not None else -1 for s in study.values() for r in s["rows"]
                                 for p in r["test"]]),
            "recall_at_10": np.array([p.recall for s in study.values() for r in s["rows"] for p in r["test"]]),
            "queries_per_s": np.array([p.qps for s in study.values() for r in s["rows"] for p in r["test"]]),
        }},
    )
