"""Serving: the captioner behind a real dynamic batcher (Triton's policy) against the
batch-1 server on the same queue: each server's maximum throughput whose p99 stays
within an objective, offered rates stepped up on the same arrival schedules; a result
cache keyed by image hash on a skewed stream, beside the stream's repeat rate (the most
any cache could hit); int8 dynamic quantization's effect on latency and BLEU."""

from __future__ import annotations

import copy
import warnings

import numpy as np

from mlsd.blocks.serving.batching import DynamicBatcher
from mlsd.blocks.serving.cache import ResultCache
from mlsd.blocks.serving.latency import LATENCY_COLUMNS, measure_latency
from mlsd.blocks.serving.loadgen import offered_load
from mlsd.blocks.serving.capacity import TARGET_UTILISATION, replicas_for
from mlsd.designs.captioning.problem import BUDGET_ALLOCATION_MS
from mlsd.results import StageResult, Table, metric
from mlsd.threads import single_threaded

MODEL_SERVER_PARTS = ("queue wait for a batch", "encoder", "decoder (beam search)")
# The model server's share of the 500 ms plan (problem stage): its p99 objective.
P99_OBJECTIVE_MS = sum(ms for part, ms in BUDGET_ALLOCATION_MS if part in MODEL_SERVER_PARTS)
LADDER_START = 0.7  # first offered rate, x batch-1's closed-loop capacity: below it, so batch-1 can pass
LADDER_STEP = 2 ** 0.5  # each level offers this much more: a maximum is known to within one step
LADDER_LEVELS = 10  # 0.7x to 15.8x batch-1's capacity; a server that passes the top is reported censored
MIN_REQUESTS_PER_RATE = 20  # a p99 needs some requests, however short the level
LADDER_BELOW = 2  # levels below the start (0.35x, 0.5x), used only when a server misses the objective at the start
ZIPF_EXPONENT = 1.1  # assumed popularity skew: a few images (memes, product shots) are requested again and again
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


def climb(service: CaptionService, images: np.ndarray, rates: list[float], start: int, seed: int, *,
          seconds: float, max_batch_size: int, max_queue_delay_ms: float) -> list[tuple[float, object, object, bool]]:
    """Offer `rates[start]`, then step up the ladder while the p99 meets P99_OBJECTIVE_MS
    with no failed request (or down, if the first level already misses it). Each rate
    offers `seconds` of arrivals (at least MIN_REQUESTS_PER_RATE requests): past capacity
    by one step (1.41x) the backlog then grows for long enough to push the p99 past the
    objective, which a short burst would hide. Level i has the same Poisson arrival
    schedule for a given `seed`, so two servers climbed with one seed meet the same
    traffic. Per level run, in rate order: rate, LoadResult, batch stats, whether it met
    the objective."""
    def run(level: int) -> tuple[float, object, object, bool]:
        count = max(MIN_REQUESTS_PER_RATE, int(np.ceil(rates[level] * seconds)))
        result, stats = serve_at(service, images[np.arange(count) % len(images)], rates[level],
                                 np.random.default_rng([seed, level]), max_batch_size=max_batch_size,
                                 max_queue_delay_ms=max_queue_delay_ms)
        return rates[level], result, stats, result.errors == 0 and result.report.p99_ms <= P99_OBJECTIVE_MS

    level, levels = start, [run(start)]
    step = 1 if levels[0][3] else -1
    while 0 <= level + step < len(rates) and levels[-1][3] == (step == 1):
        level += step
        levels.append(run(level))
    return sorted(levels, key=lambda found: found[0])


def best_level(levels: list[tuple[float, object, object, bool]]):
    """The highest level that met the objective (None if the first did not)."""
    passed = [level for level in levels if level[3]]
    return passed[-1] if passed else None


def cache_comparison(service: CaptionService, images: np.ndarray, cfg, rng) -> tuple[float, float, list, int]:
    """A Zipf-skewed request stream served with and without a result cache: the hit rate,
    the stream's repeat rate (requests whose image came earlier in it: the most any cache
    can hit), latency with and without the cache, and the distinct images requested."""
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
    distinct = len(np.unique(stream))
    return cache.hit_rate, 1 - distinct / len(stream), [with_cache, without], distinct


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
    from mlsd.designs.captioning.scoring import scores
    from mlsd.designs.captioning.training import decode

    cfg = ctx.config
    model, width, test = ctx.need("model"), ctx.need("decoder_width"), ctx.need("test")
    service = CaptionService(model, width, cfg.max_len)
    requests = test.images[ctx.rng.integers(0, len(test), size=cfg.serving_requests)]

    single = measure_latency(service.caption_one, requests[:LATENCY_PROBE], warmup=20)
    capacity = single.throughput_rps
    rates = [capacity * LADDER_START * LADDER_STEP ** k for k in range(-LADDER_BELOW, LADDER_LEVELS)]
    schedule = int(ctx.rng.integers(2**31))  # one seed: both servers meet the same arrivals at each rate
    climbs = {"batch-1": climb(service, requests, rates, LADDER_BELOW, schedule, seconds=cfg.load_seconds,
                               max_batch_size=1, max_queue_delay_ms=0.0)}
    best = {"batch-1": best_level(climbs["batch-1"])}
    # The batcher starts where batch-1 peaked (same schedule, side by side) and climbs from there.
    start = rates.index(best["batch-1"][0]) if best["batch-1"] else LADDER_BELOW
    climbs["dynamic"] = climb(service, requests, rates, start, schedule, seconds=cfg.load_seconds,
                              max_batch_size=cfg.max_batch_size, max_queue_delay_ms=cfg.max_queue_delay_ms)
    best["dynamic"] = best_level(climbs["dynamic"])
    most = {name: level[1].report.throughput_rps if level else 0.0 for name, level in best.items()}
    speedup = most["dynamic"] / most["batch-1"] if most["batch-1"] else float("nan")
    topped_out = climbs["dynamic"][-1][3]  # met the objective at the top rate: its maximum lies beyond
    dynamic = best["dynamic"][1].report if best["dynamic"] else climbs["dynamic"][0][1].report

    hit_rate, repeat_rate, (with_cache, without_cache), distinct = cache_comparison(service, test.images, cfg, ctx.rng)

    int8 = quantized(model)
    int8_service = CaptionService(int8, width, cfg.max_len)
    int8_latency = measure_latency(int8_service.caption_one, requests[:LATENCY_PROBE], warmup=20)
    fp32_bleu = ctx.need("test_bleu")
    int8_bleu = scores(decode(int8, test.images, width, cfg.max_len), test, cider=False)["bleu"]
    peak = ctx.need("peak_rps")
    workers = replicas_for(peak, most["dynamic"]) if most["dynamic"] else float("nan")
    budget = ctx.design.latency_budget_ms
    decoder = "greedy" if width == 1 else f"beam {width}"
    objective = f"p99 <= {P99_OBJECTIVE_MS:.0f} ms"
    load_rows = [[f"{rate / capacity:.2f}x ({rate:,.0f}/s)", name, round(r.report.p50_ms, 1),
                  round(r.report.p95_ms, 1), round(r.report.p99_ms, 1), round(r.report.throughput_rps),
                  round(stats.mean_batch_size, 1), "yes" if met else "no"]
                 for name, levels in climbs.items() for rate, r, stats, met in levels]

    return StageResult(
        stage="serving",
        headline=f"Within a {objective}, dynamic batching serves {speedup:.1f}x the images per second of batch-1 "
                 f"({most['dynamic']:,.0f} against {most['batch-1']:,.0f}, the same arrival schedules; {decoder}, "
                 "one worker).",
        metrics=[
            *dynamic.metrics(budget_ms=budget),
            metric("compute_floor_p50_ms", single.p50_ms, label="compute floor p50 (one image, no queue)"),
            metric("batching_speedup", speedup, censored=topped_out,
                   label=f"most images/s within {objective}, dynamic / batch-1 (offered rates {LADDER_STEP:.2f}x "
                         "apart, the same arrival schedules)"),
            metric("cache_hit_rate", hit_rate,
                   label=f"cache hit rate ({cfg.cache_capacity} entries; assumed Zipf s={ZIPF_EXPONENT} stream)"),
            metric("cache_repeat_rate", repeat_rate, label="requests whose image came earlier in the stream"),
            metric("quantized_speedup", single.p50_ms / int8_latency.p50_ms, label="p50 float32 / int8 (batch 1)"),
            metric("bleu", int8_bleu, baseline=fp32_bleu, label="BLEU-4 of the int8 model (baseline: float32)"),
            metric("replicas_needed", workers, label=f"workers for {peak:,.0f} images/s at {TARGET_UTILISATION:.0%} "
                                                     f"of the most one serves within {objective}"),
        ],
        tables=[
            Table(f"Most images/s within {objective}: offered rates stepped up (open loop, Poisson arrivals)",
                  ["offered", "server", "p50 ms", "p95 ms", "p99 ms", "served/s", "mean batch", "p99 met"], load_rows,
                  caption=f"Batch-1 capacity measured closed-loop: {capacity:,.0f} images/s; each server climbs from "
                          f"{LADDER_START:g}x it in steps of {LADDER_STEP:.2f}x until its p99 misses the objective "
                          f"({P99_OBJECTIVE_MS:.0f} ms: the queue, encoder and decoder share of the 500 ms plan); "
                          f"dynamic batching starts at batch-1's best rate. Each rate lasts at least "
                          f"{cfg.load_seconds:g} s, with the same arrival times for both servers. "
                          f"Dynamic: max_batch_size {cfg.max_batch_size}, max_queue_delay {cfg.max_queue_delay_ms:g} "
                          "ms. Latency counts from each request's scheduled arrival, queueing included."),
            Table("Result cache keyed by image hash", LATENCY_COLUMNS, [
                ["with cache", *with_cache_row(with_cache)],
                ["model every time", *with_cache_row(without_cache)],
            ], caption=f"{cfg.cache_requests:,} requests over {distinct} distinct images, popularity Zipf "
                       f"s={ZIPF_EXPONENT} (assumed); repeat rate {repeat_rate:.0%}, the most any cache could hit; "
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
            f"At low rates the two servers are close: dynamic batching waits at most {cfg.max_queue_delay_ms:g} ms "
            "for company. Past batch-1's capacity its queue grows without bound, while batches grow until the "
            "worker keeps up: the same hardware serves more within the same tail objective.",
            "The speedup is known to within one step of the ladder: each server's true maximum lies between its "
            f"last rate that met the objective and the next, {LADDER_STEP:.2f}x higher."
            + (" The dynamic batcher met it at the top rate offered, so its maximum, and the speedup, are higher "
               "still." if topped_out else ""),
            f"The hit rate follows from the assumed popularity skew (Zipf s={ZIPF_EXPONENT} over {len(test)} "
            f"images), not from traffic: the same cache on a stream with no repeats hits nothing. Measure the "
            "repeat rate of real uploads first. The key is the model version plus the image hash, so deploying "
            "a new model invalidates every entry at once.",
            f"int8 changes p50 by {single.p50_ms / int8_latency.p50_ms:.2f}x here: at this model size much of the "
            "time is Python and the word-by-word decoding loop, not matrix multiplies. Always re-measure BLEU after "
            "quantizing.",
        ],
    )


def with_cache_row(report) -> list:
    return [report.n, round(report.p50_ms, 3), round(report.p95_ms, 3), round(report.p99_ms, 3),
            round(report.throughput_rps)]
