"""Serving: the captioner behind a real dynamic batcher (Triton's policy), against
the batch-1 server on the same queue, at several offered loads; a result cache keyed
by image hash on a skewed stream; int8 dynamic quantization's effect on latency and
BLEU."""

from __future__ import annotations

import copy
import warnings

import numpy as np

from mlsd.blocks.serving.batching import DynamicBatcher
from mlsd.blocks.serving.cache import ResultCache
from mlsd.blocks.serving.latency import LATENCY_COLUMNS, measure_latency
from mlsd.blocks.serving.loadgen import offered_load
from mlsd.results import StageResult, Table, metric
from mlsd.blocks.serving.capacity import TARGET_UTILISATION, replicas_for
from mlsd.threads import single_threaded

LOAD_FACTORS = (0.5, 1.0, 2.0)  # offered load as a multiple of batch-1 capacity
ZIPF_EXPONENT = 1.1  # a few images (memes, product shots) are requested again and again
LATENCY_PROBE = 200
MODEL_VERSION = "captioner-v1"


class CaptionService:
    """What a model server runs per batch: stack the images, decode, return captions."""

    def __init__(self, model, width: int, max_len: int) -> None:
        self.model, self.width, self.max_len = model, width, max_len

    def caption_batch(self, images: list[np.ndarray]) -> list[str]:
        import torch

        return self.model.beam(torch.from_numpy(np.stack(images)), width=self.width, max_len=self.max_len)

    def caption_one(self, image: np.ndarray) -> str:
        return self.caption_batch([image])[0]


def serve_at(service: CaptionService, images: np.ndarray, rate: float, rng, *, max_batch_size: int,
             max_queue_delay_ms: float):
    """Offer `images` at `rate` requests/s to one batcher; its LoadResult and batch sizes."""
    with DynamicBatcher(service.caption_batch, max_batch_size=max_batch_size,
                        max_queue_delay_ms=max_queue_delay_ms, name="captioner") as batcher:
        result = offered_load(batcher.submit, list(images), rate, rng)
    return result, batcher.stats


def cache_comparison(service: CaptionService, images: np.ndarray, cfg, rng) -> tuple[float, list, object]:
    """A Zipf-skewed request stream served with and without a result cache."""
    ranks = np.arange(1, len(images) + 1)
    popularity = ranks ** -ZIPF_EXPONENT
    stream = rng.choice(len(images), size=cfg.cache_requests, p=popularity / popularity.sum())
    cache = ResultCache(cfg.cache_capacity)

    def cached(i: int) -> str:
        key = f"{MODEL_VERSION}:{ResultCache.key(images[i])}"  # a new model must not serve old captions
        hit = cache.get(key)
        if hit is None:
            hit = service.caption_one(images[i])
            cache.put(key, hit)
        return hit

    with_cache = measure_latency(cached, stream, warmup=0)
    probe = min(LATENCY_PROBE, cfg.serving_requests)
    without = measure_latency(lambda i: service.caption_one(images[i]), stream[:probe], warmup=20)
    return cache.hit_rate, [with_cache, without], len(set(stream.tolist()))


def quantized(model):
    """int8 dynamic quantization of the Linear and GRU layers (weights int8, activations
    quantized on the fly); the convolutions stay float32."""
    import torch

    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear, torch.nn.GRU}, dtype=torch.qint8)


def run(ctx) -> StageResult:
    with single_threaded():
        return _serve(ctx)


def _serve(ctx) -> StageResult:
    from mlsd.designs.captioning.training import decode, scores

    cfg = ctx.config
    model, width, test = ctx.need("model"), ctx.need("decoder_width"), ctx.need("test")
    service = CaptionService(model, width, cfg.max_len)
    requests = test.images[ctx.rng.integers(0, len(test), size=cfg.serving_requests)]

    single = measure_latency(service.caption_one, requests[:LATENCY_PROBE], warmup=20)
    capacity = single.throughput_rps
    load_rows, by_load = [], {}
    for factor in LOAD_FACTORS:
        rate = factor * capacity
        for name, batch, delay in (("batch-1", 1, 0.0), ("dynamic", cfg.max_batch_size, cfg.max_queue_delay_ms)):
            result, stats = serve_at(service, requests, rate, ctx.rng, max_batch_size=batch,
                                     max_queue_delay_ms=delay)
            by_load[(factor, name)] = result.report
            r = result.report
            load_rows.append([f"{factor:.1f}x ({rate:,.0f}/s)", name, round(r.p50_ms, 1), round(r.p95_ms, 1),
                              round(r.p99_ms, 1), round(r.throughput_rps), round(stats.mean_batch_size, 1)])
    top = LOAD_FACTORS[-1]
    dynamic, batch1 = by_load[(top, "dynamic")], by_load[(top, "batch-1")]
    speedup = dynamic.throughput_rps / batch1.throughput_rps

    hit_rate, (with_cache, without_cache), distinct = cache_comparison(service, test.images, cfg, ctx.rng)

    int8 = quantized(model)
    int8_service = CaptionService(int8, width, cfg.max_len)
    int8_latency = measure_latency(int8_service.caption_one, requests[:LATENCY_PROBE], warmup=20)
    fp32_bleu = ctx.need("test_bleu")
    int8_bleu = scores(decode(int8, test.images, width, cfg.max_len), test)["bleu"]
    peak = ctx.need("peak_rps")
    workers = replicas_for(peak, dynamic.throughput_rps)
    budget = ctx.design.latency_budget_ms
    decoder = "greedy" if width == 1 else f"beam {width}"

    return StageResult(
        stage="serving",
        headline=f"Dynamic batching serves {speedup:.1f}x the images per second of batch-1 at {top:.0f}x its "
                 f"capacity, p99 {dynamic.p99_ms:.0f} ms against {batch1.p99_ms:,.0f} ms ({decoder}, one worker).",
        metrics=[
            *dynamic.metrics(budget_ms=budget),
            metric("compute_floor_p50_ms", single.p50_ms, label="compute floor p50 (one image, no queue)"),
            metric("batching_speedup", speedup, label=f"throughput, dynamic / batch-1 at {top:.0f}x load"),
            metric("cache_hit_rate", hit_rate, label=f"cache hit rate ({cfg.cache_capacity} entries, Zipf stream)"),
            metric("quantized_speedup", single.p50_ms / int8_latency.p50_ms, label="p50 float32 / int8 (batch 1)"),
            metric("bleu", int8_bleu, baseline=fp32_bleu, label="BLEU-4 of the int8 model (baseline: float32)"),
            metric("replicas_needed", workers, label=f"workers for {peak:,.0f} images/s at {TARGET_UTILISATION:.0%} load"),
        ],
        tables=[
            Table("Offered load: batch-1 against dynamic batching (open loop, Poisson arrivals)",
                  ["offered", "server", "p50 ms", "p95 ms", "p99 ms", "served/s", "mean batch"], load_rows,
                  caption=f"Batch-1 capacity measured closed-loop: {capacity:,.0f} images/s. Dynamic: "
                          f"max_batch_size {cfg.max_batch_size}, max_queue_delay {cfg.max_queue_delay_ms:g} ms. "
                          "Latency counts from each request's scheduled arrival, queueing included."),
            Table("Result cache keyed by image hash", LATENCY_COLUMNS, [
                ["with cache", *with_cache_row(with_cache)],
                ["model every time", *with_cache_row(without_cache)],
            ], caption=f"{cfg.cache_requests:,} requests over {distinct} distinct images (Zipf s={ZIPF_EXPONENT}); "
                       f"LRU capacity {cfg.cache_capacity}: hit rate {hit_rate:.0%}."),
            Table("int8 dynamic quantization (Linear and GRU layers)", ["model", "p50 ms", "p99 ms", "BLEU-4"], [
                ["float32", round(single.p50_ms, 2), round(single.p99_ms, 2), round(fp32_bleu, 1)],
                ["int8", round(int8_latency.p50_ms, 2), round(int8_latency.p99_ms, 2), round(int8_bleu, 1)],
            ]),
            Table("Triton model configuration these knobs map to", ["config.pbtxt", "value"], [
                ["max_batch_size", cfg.max_batch_size],
                ["dynamic_batching.max_queue_delay_microseconds", int(cfg.max_queue_delay_ms * 1000)],
                ["instance_group.count", workers],
            ]),
        ],
        notes=[
            f"Below capacity the two servers are close: dynamic batching waits at most "
            f"{cfg.max_queue_delay_ms:g} ms for company. Above it, batch-1's queue grows without bound while "
            "batches grow until the worker keeps up: the same hardware serves more, and the tail stays short.",
            "A cache hit skips the model entirely; its value is the hit rate on real traffic. The key is the model "
            "version plus the image hash, so deploying a new model invalidates every entry at once.",
            f"int8 changes p50 by {single.p50_ms / int8_latency.p50_ms:.2f}x here: at this model size much of the "
            "time is Python and the beam bookkeeping, not matrix multiplies. Always re-measure BLEU after "
            "quantizing.",
        ],
    )


def with_cache_row(report) -> list:
    return [report.n, round(report.p50_ms, 3), round(report.p95_ms, 3), round(report.p99_ms, 3),
            round(report.throughput_rps)]
