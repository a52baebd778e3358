"""Model: a small Conformer trained with CTC, with and without SpecAugment; greedy CTC
decoding against a prefix beam search with a word bigram LM fused (weight swept);
WER and CER from jiwer, on clean and on noisy test audio, beside the baselines."""

from __future__ import annotations

import time

import numpy as np

from mlsd.blocks.uncertainty import bootstrap, paired_difference, ratio_of_sums
from mlsd.designs.speech.ctc_decoding import greedy, prefix_beam_search
from mlsd.designs.speech.asr import ALPHABET, Recogniser, posteriors, tidy, train
from mlsd.designs.speech.ngram_lm import WordBigramLM
from mlsd.results import Chart, Series, StageResult, Table, metric
from mlsd.threads import training_threads

LM_WEIGHTS = (0.0, 0.3, 0.6, 1.0)


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


def run(ctx) -> StageResult:
    import jiwer
    import torch

    cfg = ctx.config
    feats, train_utts, splits = ctx.need("feats"), ctx.need("train"), ctx.need("splits")
    noisy_test = ctx.need("noisy_test")
    texts = [u.text for u in train_utts]
    torch.set_num_threads(training_threads())  # the runner restores it after the stage
    models, losses, seconds = {}, {}, {}
    for name, augment in (("SpecAugment", True), ("no augmentation", False)):
        ctx.seed_torch()
        model = Recogniser()
        started = time.perf_counter()
        losses[name] = train(model, feats["train"], texts, epochs=cfg.epochs, batch_size=cfg.batch_size,
                             lr=cfg.learning_rate, spec_augment=augment, rng=np.random.default_rng(ctx.seed),
                             progress=ctx.progress, description=f"CTC training ({name})")
        seconds[name] = time.perf_counter() - started
        models[name] = model
    refs = {"test": [u.text for u in splits["test"]], "noisy_test": [u.text for u in noisy_test]}
    lm = WordBigramLM().fit(texts)
    rows, greedy_wer = [], {}
    for name, model in models.items():
        for split in ("test", "noisy_test"):
            hyps = [tidy(greedy(p, ALPHABET)) for p in posteriors(model, feats[split])]
            greedy_wer[(name, split)] = jiwer.wer(refs[split], hyps)
            rows.append([f"Conformer-CTC, {name}, greedy", split, round(jiwer.wer(refs[split], hyps), 4),
                         round(jiwer.cer(refs[split], hyps), 4)])
    champion = models["SpecAugment"]
    noisy_post = posteriors(champion, feats["noisy_test"])
    val_post = posteriors(champion, feats["noisy_val"])
    val_refs = [u.text for u in ctx.need("noisy_val")]

    def decode(post, weight):
        return [tidy(prefix_beam_search(p, ALPHABET, beam=cfg.beam, lm=lm, lm_weight=weight,
                                        word_bonus=cfg.word_bonus if weight else 0.0)) for p in post]

    sweep, noisy_hyps = [], {}
    for weight in LM_WEIGHTS:
        started = time.perf_counter()
        hyps = noisy_hyps[weight] = decode(noisy_post, weight)
        ms = (time.perf_counter() - started) * 1000 / len(noisy_post)
        sweep.append((weight, jiwer.wer(refs["noisy_test"], hyps), jiwer.cer(refs["noisy_test"], hyps), ms,
                      jiwer.wer(val_refs, decode(val_post, weight))))
    chosen = min(sweep, key=lambda s: (s[4], s[0]))  # the weight is chosen on validation, not on test
    best = chosen
    # Does the LM's gain survive resampling the noisy test utterances? Paired with no LM.
    with_lm, without_lm = (word_errors(refs["noisy_test"], noisy_hyps[w]) for w in (best[0], sweep[0][0]))
    lm_wer = ratio_of_sums(*with_lm)
    lm_interval = bootstrap(lm_wer, len(noisy_post), ctx.seed)
    lm_gap = paired_difference(lm_wer, ratio_of_sums(*without_lm), len(noisy_post), ctx.seed)
    frame_wer, frame_cer = ctx.need("frame_baseline")
    rows += [[f"prefix beam {cfg.beam}, LM weight {w}", "noisy_test", round(wer, 4), round(cer, 4)]
             for w, wer, cer, _, _ in sweep]
    rows += [["frame classifier (baseline)", "test", round(frame_wer, 4), round(frame_cer, 4)],
             ["empty transcript", "test", 1.0, 1.0]]
    clean = greedy_wer[("SpecAugment", "test")]
    epochs = list(range(1, cfg.epochs + 1))
    return StageResult(
        stage="model",
        headline=f"Conformer-CTC: WER {clean:.1%} on clean test audio against {frame_wer:.0%} for the frame "
                 f"classifier; on noisy audio SpecAugment {greedy_wer[('SpecAugment', 'noisy_test')]:.1%} against "
                 f"{greedy_wer[('no augmentation', 'noisy_test')]:.1%} without, LM fusion {best[1]:.1%}.",
        metrics=[
            metric("wer", clean, baseline=frame_wer, label="WER, clean test, greedy (baseline: frame classifier)"),
            metric("wer_noisy", sweep[0][1], label=f"WER, noisy test ({cfg.noisy_snr_db:g} dB), beam without LM"),
            metric("wer_noisy_lm", best[1], baseline=sweep[0][1],
                   label=f"WER, noisy test, LM weight {best[0]} chosen on validation (baseline: no LM)",
                   **lm_interval.fields("ci"), **lm_gap.fields("vs_baseline")),
        ],
        tables=[
            Table("Word and character error rates (jiwer)", ["system", "test set", "WER", "CER"], rows,
                  caption=f"{len(refs['test'])} clean ({cfg.snr_db:g} dB) and {len(refs['noisy_test'])} noisy "
                          f"({cfg.noisy_snr_db:g} dB) test utterances. Training: {cfg.epochs} epochs, "
                          f"{seconds['SpecAugment']:.0f} s with SpecAugment."),
            Table("LM fusion weight sweep (noisy test)", ["LM weight", "WER", "CER", "decode ms/utterance",
                                                          "validation WER"],
                  [[w, round(wer, 4), round(cer, 4), round(ms, 1), round(vw, 4)] for w, wer, cer, ms, vw in sweep],
                  caption=f"Word bigram LM (Kneser-Ney style) on the training transcripts, fused at word "
                          f"boundaries with a word bonus of {cfg.word_bonus:g}."),
        ],
        charts=[Chart("CTC loss by epoch", "epoch", "loss",
                      [Series(name, epochs, values) for name, values in losses.items()])],
        notes=[
            "CTC lets the network emit a blank or a character every frame and sums over all alignments, so no "
            "frame-level alignment is needed: the frame classifier needed one and still failed.",
            "SpecAugment hides bands and spans during training, so the model cannot lean on any one of them; it "
            "pays off on audio unlike the training audio.",
            "Shallow fusion adds the LM's log-probability of each completed word to the acoustic score: when noise "
            "blurs a phone, the grammar decides.",
        ],
        artifacts={"model": champion},
        exports={"test_transcripts": {
            "reference": np.array(refs["noisy_test"]),
            "greedy": np.array([tidy(greedy(p, ALPHABET)) for p in noisy_post]),
            "beam_lm": np.array([tidy(prefix_beam_search(p, ALPHABET, beam=cfg.beam, lm=lm, lm_weight=best[0],
                                                         word_bonus=cfg.word_bonus if best[0] else 0.0))
                                 for p in noisy_post]),
        }},
    )
