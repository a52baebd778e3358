"""Monitoring: half-way through the monitored days a new device brings noisy audio.
Detect it before any transcript exists, from the model's confidence and the input's
noise floor; confirm with WER on a transcribed sample; recover by fine-tuning on
noise-augmented data. Then diarization: who spoke when in multi-speaker recordings,
from per-window speaker embeddings clustered without labels, scored by DER."""

from __future__ import annotations

import copy

import numpy as np

from mlsd.designs.speech.ctc_decoding import greedy
from mlsd.designs.speech import world
from mlsd.designs.speech.asr import ALPHABET, features, posteriors, tidy, train
from mlsd.designs.speech.diarization import Segment, cluster_segments, diarization_error_rate
from mlsd.blocks.monitoring.drift import psi
from mlsd.results import Chart, Series, StageResult, Table, metric

CONFIDENCE_SIGMAS = 4.0
FLOOR_RISE_DB = 6.0       # alarm when the day's mean noise floor is this far above validation's
WER_ALARM_RISE = 0.05     # labelled WER this far above validation confirms the problem
WINDOW_S = 0.5            # diarization: one embedding per half second of speech
FINETUNE_SHARE = 0.5      # fine-tuning set: this share of the training set in new noise, as much old audio replayed


def noise_floor_db(audio: np.ndarray) -> float:
    """The 10th percentile of 20 ms frame energies: the level between words."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    return float(np.percentile(10 * np.log10(np.mean(frames**2, axis=1) + 1e-12), 10))


def confidence(post: list[np.ndarray]) -> np.ndarray:
    """Mean best-symbol probability over the frames where the model emits a character."""
    out = []
    for p in post:
        best = p.max(axis=1)
        emitting = p.argmax(axis=1) != 0
        out.append(float(np.exp(best[emitting]).mean()) if emitting.any() else 0.0)
    return np.array(out)


def diarize(cfg, speakers, rng) -> tuple[list, float, float]:
    """Recordings of 2-3 speakers taking turns; embed each half-second window (mean and
    spread of its log-mel frames), cluster, score against the generator's turns."""
    rows, ders, baselines = [], [], []
    for r in range(cfg.recordings):
        chosen = rng.choice(len(speakers), int(rng.integers(2, 4)), replace=False)
        turns = [int(chosen[i % len(chosen)]) for i in range(int(rng.integers(4, 7)))]
        audio, reference, t = [], [], 0.0
        for s in turns:
            u = world.synthesize(world.sentence(rng), s, speakers[s], rng, cfg.snr_db)
            reference.append(Segment(t + 0.1, t + len(u.audio) / world.SAMPLE_RATE - 0.1, f"spk{s}"))
            audio.append(u.audio)
            t += len(u.audio) / world.SAMPLE_RATE
        signal = np.concatenate(audio)
        step = int(WINDOW_S * world.SAMPLE_RATE)
        windows = [(i, signal[i:i + step]) for i in range(0, len(signal) - step + 1, step)]
        feats = features([w for _, w in windows])
        embeddings = np.array([np.concatenate([f.mean(0).numpy(), f.std(0).numpy()]) for f in feats])
        raw = np.array([np.concatenate([np.log(np.abs(np.fft.rfft(w))[:400] + 1e-6).reshape(40, 10).mean(1)])
                        for _, w in windows])
        labels = cluster_segments(np.hstack([embeddings, raw]), n_speakers=len(chosen))
        hypothesis = [Segment(i / world.SAMPLE_RATE, (i + step) / world.SAMPLE_RATE, f"h{label}")
                      for (i, _), label in zip(windows, labels)]
        one = [Segment(0.0, len(signal) / world.SAMPLE_RATE, "h0")]
        der = diarization_error_rate(reference, hypothesis, collar=0.25)
        base = diarization_error_rate(reference, one, collar=0.25)
        ders.append(der.total)
        baselines.append(base.total)
        if r < 4:
            rows.append([r + 1, len(chosen), len(turns), round(der.total, 3), round(base.total, 3)])
    return rows, float(np.mean(ders)), float(np.mean(baselines))


def run(ctx) -> StageResult:
    import jiwer

    cfg = ctx.config
    model, speakers = ctx.need("model"), ctx.need("speakers")
    feats, splits, train_utts = ctx.need("feats"), ctx.need("splits"), ctx.need("train")
    val_post = posteriors(model, feats["val"])
    val_conf = confidence(val_post)
    val_wer = jiwer.wer([u.text for u in splits["val"]], [tidy(greedy(p, ALPHABET)) for p in val_post])
    reference_floor = np.array([noise_floor_db(u.audio) for u in splits["val"]])
    shift_day = cfg.monitor_days // 2 + 1
    rows, conf_day, input_day, label_day, deploy_day = [], None, None, None, None
    sample_wer: dict[int, float] = {}  # day -> WER of the day's labelled sample
    production, tuned = model, None
    series = {"confidence x100": [], "WER x100 (sample)": []}
    for day in range(1, cfg.monitor_days + 1):
        if day == deploy_day:
            production = tuned
        snr = cfg.shifted_snr_db if day >= shift_day else cfg.snr_db
        today = world.generate(cfg.utterances_per_day, speakers, ctx.rng, snr)
        post = posteriors(production, features([u.audio for u in today]))
        conf = confidence(post)
        floors = np.array([noise_floor_db(u.audio) for u in today])
        day_psi = psi(reference_floor, floors)
        if conf_day is None and conf.mean() < val_conf.mean() - CONFIDENCE_SIGMAS * val_conf.std() / np.sqrt(len(conf)):
            conf_day = day
        if input_day is None and floors.mean() > reference_floor.mean() + FLOOR_RISE_DB:
            input_day = day
        sample = today[: cfg.labelled_per_day]
        wer = jiwer.wer([u.text for u in sample], [tidy(greedy(p, ALPHABET)) for p in post[: cfg.labelled_per_day]])
        if label_day is None and day in (conf_day, input_day) and wer > val_wer + WER_ALARM_RISE:
            label_day, deploy_day = day, day + 1
            half = int(FINETUNE_SHARE * len(train_utts))
            noisy = world.generate(half, speakers, ctx.rng, cfg.shifted_snr_db)
            replay = [train_utts[i] for i in ctx.rng.permutation(len(train_utts))[:half]]
            augmented = replay + noisy  # old audio, so it is not forgotten, and as much with device-like noise
            tuned = copy.deepcopy(production)
            train(tuned, features([u.audio for u in augmented]), [u.text for u in augmented],
                  epochs=cfg.finetune_epochs, batch_size=cfg.batch_size, lr=cfg.learning_rate / 2, spec_augment=True,
                  rng=np.random.default_rng(ctx.seed + 1), progress=ctx.progress,
                  description="fine-tuning on noise-augmented audio")
        sample_wer[day] = wer
        rows.append([day, f"{snr:g} dB", round(float(floors.mean()), 1), round(day_psi, 3),
                     round(float(conf.mean()), 3), round(wer, 3), "fine-tuned" if production is tuned else "original"])
        series["confidence x100"].append(100 * float(conf.mean()))
        series["WER x100 (sample)"].append(100 * wer)
    after = [w for day, w in sample_wer.items() if deploy_day and day >= deploy_day]
    before = [w for day, w in sample_wer.items() if day >= shift_day and (deploy_day is None or day < deploy_day)]
    diar_rows, der, der_baseline = diarize(cfg, speakers, ctx.rng)
    return StageResult(
        stage="monitoring",
        headline=f"Noisy audio from day {shift_day}: confidence alarm day {conf_day}, noise-floor alarm day {input_day}, "
                 f"WER on transcribed samples confirmed day {label_day}; fine-tuned model from day {deploy_day}. "
                 f"Diarization error rate {der:.1%} against {der_baseline:.1%} for one speaker.",
        metrics=[
            metric("confidence_alarm_day", conf_day if conf_day else float("nan"), target=shift_day),
            metric("drift_alarm_day", input_day if input_day else float("nan"), target=shift_day,
                   label="noise-floor alarm (day)"),
            metric("label_alarm_day", label_day if label_day else float("nan"), label="WER confirmed (day)"),
            metric("wer", float(np.mean(after)) if after else float("nan"),
                   baseline=float(np.mean(before)) if before else None,
                   label="sample WER after fine-tuning (baseline: shifted days before)"),
            metric("der", der, baseline=der_baseline, label="diarization error rate (baseline: one speaker)"),
        ],
        tables=[
            Table("Day by day", ["day", "SNR", "noise floor dB", "floor PSI", "confidence", "WER (sample)", "model"],
                  rows, caption=f"Confidence: mean probability of the emitted characters, alarm "
                                f"{CONFIDENCE_SIGMAS:g} standard errors below validation. Noise floor: 10th percentile "
                                f"of 20 ms frame energy, alarm {FLOOR_RISE_DB:g} dB above validation (its PSI is shown; "
                                f"with {cfg.utterances_per_day} utterances a day it is too noisy to alarm on). WER: "
                                f"{cfg.labelled_per_day} utterances a day sent for transcription."),
            Table("Diarization (first recordings)", ["recording", "speakers", "turns", "DER", "DER, one speaker"],
                  diar_rows, caption=f"{cfg.recordings} recordings; embeddings of {WINDOW_S} s windows (log-mel mean "
                                     "and spread, coarse spectrum), agglomerative clustering with the number of "
                                     "speakers known; DER with a 0.25 s collar (mlsd.designs.speech.diarization, md-eval formulas)."),
        ],
        charts=[Chart("Signals by day", "day", "value",
                      [Series(name, list(range(1, cfg.monitor_days + 1)), v) for name, v in series.items()])],
        notes=[
            "Confidence and the input's noise floor need no transcript, so they flag the new device the day it "
            "arrives; a small transcribed sample confirms the WER cost before anyone retrains.",
            f"Fine-tuning on {FINETUNE_SHARE:.0%} of the training set replayed plus as many synthesized utterances "
            "at the new device's noise level teaches the model the new condition without forgetting the old; in "
            "production that is noise augmentation of existing transcribed audio, cheaper than transcribing new "
            "recordings.",
            "Diarization is clustering: without labels, the number of clusters and the embedding decide the "
            "result, and DER charges missed speech, false alarms and speaker confusion alike.",
        ],
    )
