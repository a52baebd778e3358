"""One metric vocabulary across designs.

`mlsd compare` and the results store read metrics by these names, so a design uses a
name from here (or adds one here) rather than inventing its own spelling.
Each entry: unit, whether higher is better (None: neither), and a human label.
"""

from __future__ import annotations

VOCABULARY: dict[str, tuple[str, bool | None, str]] = {
    # serving
    "latency_p50_ms": ("ms", False, "latency p50"),
    "latency_p95_ms": ("ms", False, "latency p95"),
    "latency_p99_ms": ("ms", False, "latency p99"),
    "throughput_rps": ("req/s", True, "throughput (one worker)"),
    "compute_floor_p50_ms": ("ms", False, "compute floor p50 (model alone)"),
    "overhead_ratio": ("x", False, "serving p50 / compute floor p50"),
    "replicas_needed": ("count", False, "replicas for peak traffic"),
    "offered_rps": ("req/s", None, "open-loop offered load (mean rate of Poisson arrivals)"),
    "open_loop_latency_p50_ms": ("ms", False, "latency p50 under open-loop load, from scheduled arrival"),
    "open_loop_latency_p95_ms": ("ms", False, "latency p95 under open-loop load, from scheduled arrival"),
    "open_loop_latency_p99_ms": ("ms", False, "latency p99 under open-loop load, from scheduled arrival"),
    "feature_consistency_mismatches": ("count", False, "serving vs training feature mismatches"),
    "skew_bug_mismatches_found": ("count", True, "mismatches the skew check finds with a bug injected"),
    # ranking and retrieval
    "recall_at_10": ("", True, "Recall@10: share of queries with a match in the top 10"),
    "candidate_recall": ("", True, "relevant documents inside the retrieval cut"),
    "ndcg_at_10": ("", True, "NDCG@10"),
    "mrr": ("", True, "MRR"),
    # classification
    "pr_auc": ("", True, "PR-AUC (average precision)"),
    "roc_auc": ("", True, "ROC-AUC"),
    "leaky_roc_auc_offline": ("", None, "ROC-AUC of the naive-join model offline (inflated by leakage)"),
    "leaky_roc_auc_live": ("", True, "ROC-AUC of the naive-join model on live-like features"),
    "log_loss": ("", False, "log loss"),
    "accuracy": ("", True, "accuracy"),
    "click_label_agreement": ("", True, "labels derived from clicks that equal the judged label"),
    "precision_at_threshold": ("", True, "precision at threshold"),
    "recall_at_threshold": ("", True, "recall at threshold"),
    "expected_cost": ("$", False, "expected cost"),
    "positive_rate": ("", None, "positive (fraud) rate"),
    "peak_tps": ("req/s", None, "peak card transactions per second"),
    "peak_rps": ("req/s", None, "peak requests per second the serving path must take"),
    # sequence generation
    "bleu": ("", True, "BLEU"),
    "chrf": ("", True, "chrF"),
    "cider": ("", True, "CIDEr"),
    "object_f1": ("", True, "object F1 (names the objects that are there)"),
    "vocabulary_size": ("count", None, "vocabulary size"),
    "leakage_share": ("", False, "test items whose content is also in train"),
    "batching_speedup": ("x", True, "throughput gain of dynamic batching over batch-1"),
    "cache_hit_rate": ("", True, "cache hit rate"),
    "cache_repeat_rate": ("", None, "requests whose input came earlier in the stream (the most any cache "
                                    "can hit; set by the assumed popularity skew)"),
    "quantized_speedup": ("x", True, "latency gain of int8 over float32"),
    "interleaving_queries": ("count", False, "queries interleaving needed for a significant verdict"),
    "ab_test_queries": ("count", False, "queries per arm an A/B test needed for a significant verdict"),
    "wer": ("", False, "word error rate of the shipped model on the test set"),
    "wer_noisy": ("", False, "word error rate on noisy audio, beam search without LM"),
    "wer_noisy_lm": ("", False, "word error rate on noisy audio, beam search with LM fusion"),
    "baseline_wer": ("", False, "word error rate of a simple baseline system (problem stage)"),
    "baseline_cer": ("", False, "character error rate of a simple baseline system (problem stage)"),
    "streaming_wer": ("", False, "word error rate of chunked streaming recognition"),
    "recovery_wer": ("", False, "word error rate of a transcribed production sample after retraining"),
    "cer": ("", False, "character error rate"),
    "rtf": ("x", False, "real-time factor"),
    "der": ("", False, "diarization error rate"),
    "final_latency_p99_ms": ("ms", False, "final result after the end of audio, p99"),
    # image search
    "recall_at_1": ("", True, "Recall@1: share of queries whose first result matches"),
    "image_recall_at_10": ("", True, "image→image Recall@10: share of image queries with a match in the top 10"),
    "ann_recall_at_10": ("", True, "share of the exact top 10 an approximate index returns"),
    "compressed_recall_at_10": ("", True, "share of the exact top 10 a compressed (PQ) index returns"),
    "ann_speedup": ("x", True, "queries/s of the best ANN setting at the recall objective over exact search"),
    "ann_speedup_small": ("x", True, "the same speed-up at the smaller corpus"),
    "compression_ratio": ("x", True, "bytes per vector of the exact index over the compressed one"),
    "index_memory_gb": ("GB", None, "index memory"),
    "peak_qps": ("req/s", None, "peak queries per second"),
    "temperature": ("", None, "learned softmax temperature"),
    "false_removals": ("count", False, "distinct items a cleaning step removed by mistake"),
    "vectors_scanned": ("count", False, "vectors an index compares per query"),
    # data and monitoring
    "rows": ("count", None, "rows"),
    "validation_issues": ("count", False, "data validation issues found"),
    "psi_max": ("", False, "largest PSI"),
    "drift_alarm_day": ("day", False, "first drift alarm (day)"),
    "label_alarm_day": ("day", False, "first label-based alarm (day)"),
    "confidence_alarm_day": ("day", False, "first model-confidence alarm (day)"),
    "false_alarm_rate": ("", False, "share of days without an incident on which any alarm fired"),
    "pre_incident_level": ("", None, "the monitored quality metric on the days before the incident "
                                     "(a reference level, not an oracle: retraining on more data can pass it)"),
    "recovery_pr_auc": ("", True, "PR-AUC after retraining"),
    "recovery_bleu": ("", True, "BLEU-4 after retraining"),
    "review_queue_peak": ("count", False, "peak daily review queue"),
    # feature platform
    "events_dropped_late": ("count", False, "events dropped behind the watermark (never counted)"),
    "null_rate_alarm_day": ("day", False, "first null-rate alarm (day)"),
    "freshness_alarm_day": ("day", False, "first freshness alarm (day)"),
    "naive_join_leak_share": ("", False, "training rows whose naive-join features differ from the values known "
                                         "at their time"),
    "fresh_within_slo_share": ("", True, "events readable online within the freshness objective (dropped ones "
                                         "count as never)"),
    "freshness_p99_s": ("s", False, "event to readable online value, p99 over delivered events"),
}


# Model-quality metrics: a model stage reports each with its baseline, and with its oracle
# where the generator knows the truth (the contract test checks both).
QUALITY_METRICS: frozenset[str] = frozenset({
    "recall_at_10", "ndcg_at_10", "mrr", "pr_auc", "roc_auc", "log_loss", "precision_at_threshold",
    "recall_at_threshold", "expected_cost", "bleu", "chrf", "cider", "object_f1", "wer", "cer",
    "wer_noisy_lm", "der",
})

# Units of measurements that depend on the machine and its load, not on the seed.
TIMING_UNITS: frozenset[str] = frozenset({"ms", "s", "req/s", "x"})


def is_timing(name: str) -> bool:
    """True for a metric whose value is a wall-clock measurement (latency, throughput,
    speedups, real-time factor): the same seed need not give the same value."""
    return describe(name)[0] in TIMING_UNITS


def describe(name: str) -> tuple[str, bool | None, str]:
    """Unit, direction and label of a vocabulary metric; KeyError names the fix."""
    try:
        return VOCABULARY[name]
    except KeyError:
        raise KeyError(f"metric {name!r} is not in mlsd/vocabulary.py: add it there") from None
