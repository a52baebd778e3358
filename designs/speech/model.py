"""Model: a small Conformer trained with CTC, with and without SpecAugment, the champion
chosen on validation; greedy CTC decoding against a prefix beam search with a word
bigram LM fused (weight chosen on validation); WER and CER from jiwer on clean and
noisy test audio from unseen speakers and sentences, beside the baselines, with 95%
bootstrap intervals over test utterances."""

from __future__ import annotations

import time

import numpy as np

from mlsd import threads
from mlsd.blocks.uncertainty import bootstrap, paired_difference, ratio_of_sums
from mlsd.designs.speech.asr import ALPHABET, Recogniser, posteriors, tidy, train
from mlsd.designs.speech.ctc_decoding import greedy, prefix_beam_search
from mlsd.designs.speech.ngram_lm import WordBigramLM
from mlsd.results import Chart, Series, StageResult, Table, metric

LM_WEIGHTS = (0.0, 0.3, 0.6, 1.0)
VARIANTS = (("SpecAugment", True), ("no augmentation", False))  # (name, SpecAugment on)
SPLITS = ("val", "noisy_val", "test", "noisy_test")
TEST_SPLITS = ("test", "noisy_test")


def word_errors(refs: list[str], hyps: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per utterance: word errors (substitutions, deletions, insertions) and reference
    words, so WER = errors.sum() / words.sum() as jiwer computes it over the corpus."""
    import jiwer

    errors, words = [], []
    for ref, hyp in zip(refs, hyps):
        out = jiwer.process_words(ref, hyp)
        errors.append(out.substitutions + out.deletions + out.insertions)
        words.append(len(ref.split()))
    return np.array(errors, dtype=float), np.array(words, dtype=float)


def error_rates(refs: dict[str, list[str]], hyps: dict[str, list[str]]) -> list[float]:
    """[test WER, test CER, noisy test WER, noisy test CER] from jiwer, rounded for a table."""
    import jiwer

    return [round(rate(refs[split], hyps[split]), 4) for split in TEST_SPLITS for rate in (jiwer.wer, jiwer.cer)]


def train_variants(ctx, feats: list, texts: list[str]) -> tuple[dict, dict, dict]:
    """One recogniser per variant, each from the same seed and batch order: models,
    loss per epoch, and training seconds."""
    cfg = ctx.config
    models, losses, seconds = {}, {}, {}
    for name, augment in VARIANTS:
        ctx.seed_torch()
        model = Recogniser()
        started = time.perf_counter()
        losses[name] = train(model, feats, texts, epochs=cfg.epochs, batch_size=cfg.batch_size,
                             lr=cfg.learning_rate, spec_augment=augment, rng=np.random.default_rng(ctx.seed),
                             progress=ctx.progress, description=f"CTC training ({name})")
        seconds[name] = time.perf_counter() - started
        models[name] = model
    return models, losses, seconds


def run(ctx) -> StageResult:
    import jiwer
    import torch

    cfg = ctx.config
    feats, train_utts, splits = ctx.need("feats"), ctx.need("train"), ctx.need("splits")
    refs = {"val": [u.text for u in splits["val"]], "noisy_val": [u.text for u in ctx.need("noisy_val")],
            "test": [u.text for u in splits["test"]], "noisy_test": [u.text for u in ctx.need("noisy_test")]}
    texts = [u.text for u in train_utts]
    torch.set_num_threads(threads.training_threads())  # the runner restores it after the stage
    models, losses, seconds = train_variants(ctx, feats["train"], texts)

    post = {name: {split: posteriors(model, feats[split]) for split in SPLITS} for name, model in models.items()}
    greedy_hyps = {(name, split): [tidy(greedy(p, ALPHABET)) for p in post[name][split]]
                   for name in models for split in SPLITS}
    val_refs = refs["val"] + refs["noisy_val"]  # both conditions production meets, pooled

    def val_wer(name: str) -> float:
        return jiwer.wer(val_refs, greedy_hyps[(name, "val")] + greedy_hyps[(name, "noisy_val")])

    variant_val = {name: val_wer(name) for name in models}
    champion = min(models, key=lambda name: (variant_val[name], name))  # chosen on validation, never on test
    lm = WordBigramLM().fit(texts)

    def decode(split: str, weight: float) -> list[str]:
        return [tidy(prefix_beam_search(p, ALPHABET, beam=cfg.beam, lm=lm, lm_weight=weight,
                                        word_bonus=cfg.word_bonus if weight else 0.0)) for p in post[champion][split]]

    sweep = {}  # LM weight -> (validation WER, decode ms per utterance)
    for weight in LM_WEIGHTS:
        started = time.perf_counter()
        hyps = decode("val", weight) + decode("noisy_val", weight)
        sweep[weight] = (jiwer.wer(val_refs, hyps), (time.perf_counter() - started) * 1000 / len(hyps))
    weight = min(LM_WEIGHTS, key=lambda w: (sweep[w][0], w))  # the weight is chosen on validation, not on test
    beam = {(split, w): decode(split, w) for split in TEST_SPLITS for w in sorted({0.0, weight})}

    # How sure: resample test utterances; the LM's gain is paired with the same decoder without it.
    def scored(split: str, hyps: list[str]):
        return ratio_of_sums(*word_errors(refs[split], hyps))

    n_test, n_noisy = len(refs["test"]), len(refs["noisy_test"])
    frame_hyps = ctx.need("frame_baseline")["hypotheses"]
    wer = {(split, w): jiwer.wer(refs[split], beam[(split, w)]) for split, w in beam}
    clean_interval = bootstrap(scored("test", beam[("test", weight)]), n_test, ctx.seed)
    clean_gap = paired_difference(scored("test", beam[("test", weight)]), scored("test", frame_hyps), n_test, ctx.seed)
    lm_gain = {split: paired_difference(scored(split, beam[(split, weight)]), scored(split, beam[(split, 0.0)]),
                                        len(refs[split]), ctx.seed) for split in TEST_SPLITS}
    noisy_interval = bootstrap(scored("noisy_test", beam[("noisy_test", weight)]), n_noisy, ctx.seed)
    frame_wer, frame_cer = jiwer.wer(refs["test"], frame_hyps), jiwer.cer(refs["test"], frame_hyps)

    greedy_wer = {(name, split): jiwer.wer(refs[split], greedy_hyps[(name, split)]) for name, split in greedy_hyps}
    variant_rows = [[name + (" (champion)" if name == champion else ""), round(variant_val[name], 4),
                     round(greedy_wer[(name, "test")], 4), round(greedy_wer[(name, "noisy_test")], 4),
                     round(seconds[name], 1)] for name in models]
    champion_greedy = {split: greedy_hyps[(champion, split)] for split in TEST_SPLITS}
    decoders = {"greedy": champion_greedy,
                f"prefix beam {cfg.beam}, no LM": {split: beam[(split, 0.0)] for split in TEST_SPLITS},
                f"prefix beam {cfg.beam}, LM weight {weight}": {split: beam[(split, weight)] for split in TEST_SPLITS}}
    decoder_rows = ([[name] + error_rates(refs, hyps) for name, hyps in decoders.items()]
                    + [["frame classifier (baseline)", round(frame_wer, 4), round(frame_cer, 4), "", ""],
                       ["empty transcript", 1.0, 1.0, 1.0, 1.0]])
    gain_rows = [[split, round(wer[(split, 0.0)], 4), round(wer[(split, weight)], 4),
                  round(wer[(split, weight)] - wer[(split, 0.0)], 4),
                  f"[{lm_gain[split].low:.4f}, {lm_gain[split].high:.4f}]"] for split in TEST_SPLITS]
    other = next(name for name in models if name != champion)
    epochs = list(range(1, cfg.epochs + 1))
    return StageResult(
        stage="model",
        headline=f"Conformer-CTC ({champion}, chosen on validation) with a word bigram LM: WER "
                 f"{wer[('test', weight)]:.1%} on clean test audio from unseen speakers and sentences, against "
                 f"{frame_wer:.0%} for the frame classifier; {wer[('noisy_test', weight)]:.1%} on noisy audio "
                 f"({wer[('noisy_test', 0.0)]:.1%} without the LM).",
        metrics=[
            metric("wer", wer[("test", weight)], baseline=frame_wer,
                   label=f"WER, clean test, {champion}, beam with LM weight {weight} (baseline: frame classifier)",
                   **clean_interval.fields("ci"), **clean_gap.fields("vs_baseline")),
            metric("wer_noisy", wer[("noisy_test", 0.0)],
                   label=f"WER, noisy test ({cfg.noisy_snr_db:g} dB), beam without LM"),
            metric("wer_noisy_lm", wer[("noisy_test", weight)], baseline=wer[("noisy_test", 0.0)],
                   label=f"WER, noisy test, LM weight {weight} chosen on validation (baseline: no LM)",
                   **noisy_interval.fields("ci"), **lm_gain["noisy_test"].fields("vs_baseline")),
        ],
        tables=[
            Table("Acoustic model variants (greedy decoding)",
                  ["variant", "validation WER (clean + noisy)", "test WER", "noisy test WER", "training s"],
                  variant_rows,
                  caption=f"The champion is the variant with the lower validation WER ({len(val_refs)} utterances of "
                          f"{len(set(refs['val']))} unseen sentences, speakers unseen in training); test figures "
                          "are shown for both, and chose nothing."),
            Table("Word and character error rates, champion (jiwer)",
                  ["decoder", "test WER", "test CER", "noisy test WER", "noisy test CER"], decoder_rows,
                  caption=f"{n_test} clean ({cfg.snr_db:g} dB) and {n_noisy} noisy ({cfg.noisy_snr_db:g} dB) test "
                          f"utterances; speakers and word sequences never in training. Clean test WER with the LM, "
                          f"95% interval over utterances: [{clean_interval.low:.4f}, {clean_interval.high:.4f}]."),
            Table("LM fusion weight sweep (validation, clean + noisy)", ["LM weight", "validation WER",
                                                                         "decode ms/utterance"],
                  [[w, round(v, 4), round(ms, 1)] for w, (v, ms) in sweep.items()],
                  caption=f"Word bigram LM (Kneser-Ney style) on the {len(texts)} training transcripts, fused at "
                          f"word boundaries with a word bonus of {cfg.word_bonus:g}; weight {weight} kept."),
            Table("LM gain on test (paired bootstrap over utterances)",
                  ["test set", "WER without LM", "WER with LM", "gap", "95% interval of the gap"], gain_rows,
                  caption="The same beam search with and without the LM on the same utterances, resampled 1,000 "
                          "times: an interval below zero means the gain is not luck."),
        ],
        charts=[Chart("CTC loss by epoch", "epoch", "loss",
                      [Series(name, epochs, values) for name, values in losses.items()])],
        notes=[
            "CTC lets the network emit a blank or a character every frame and sums over all alignments, so no "
            "frame-level alignment is needed: the frame classifier needed one and still failed.",
            f"This run: {champion} won on validation ({variant_val[champion]:.1%} against {variant_val[other]:.1%} "
            f"for {other}); on the test sets it scored {greedy_wer[(champion, 'test')]:.1%} / "
            f"{greedy_wer[(champion, 'noisy_test')]:.1%} (clean / noisy) against "
            f"{greedy_wer[(other, 'test')]:.1%} / {greedy_wer[(other, 'noisy_test')]:.1%}.",
            "Shallow fusion adds the LM's log-probability of each completed word to the acoustic score: where the "
            "audio leaves two words or two segmentations open (kita / kito, ki to / kito), the grammar decides.",
        ],
        artifacts={"model": models[champion]},
        exports={"test_transcripts": {"reference": np.array(refs["test"]),
                                      "greedy": np.array(champion_greedy["test"]),
                                      "beam_lm": np.array(beam[("test", weight)])},
                 "noisy_test_transcripts": {"reference": np.array(refs["noisy_test"]),
                                            "greedy": np.array(champion_greedy["noisy_test"]),
                                            "beam_no_lm": np.array(beam[("noisy_test", 0.0)]),
                                            "beam_lm": np.array(beam[("noisy_test", weight)])}},
    )
