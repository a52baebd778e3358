"""Monitoring: half-way through the monitored days a new product brings purple objects
(a colour the model has never seen) under dimmer light. Detect it before any caption
is labelled, from the encoder's embeddings (PSI on their principal components) and the
model's own confidence; confirm with BLEU on the daily labelled sample; retrain with
an expanded vocabulary and show the recovery."""

from __future__ import annotations

import numpy as np

from mlsd.blocks.synthetic import scenes as scene_lib
from mlsd.designs.captioning import world
from mlsd.blocks.monitoring.drift import PSI_ALARM, psi
from mlsd.results import Chart, Series, StageResult, Table, metric

NEW_COLOUR = "purple"
SHIFT_SHARE = 0.5          # of each day's images after the launch
SHIFT_LIGHT = {"brightness": 0.75, "tint": (1.0, 0.95, 1.1)}
PCA_COMPONENTS = 3
CONFIDENCE_SIGMAS = 4.0    # alarm when the day's mean confidence falls this many standard errors
BLEU_ALARM_SHARE = 0.9     # alarm when labelled BLEU falls below 90% of validation
REPLAY_PER_NEW = 2         # old training images replayed per newly captioned one when fine-tuning


def day_images(cfg, day: int, shift_day: int, rng, n: int) -> world.Split:
    """One day of uploads; from `shift_day` on, half carry the new colour in dim light."""
    if day < shift_day:
        return world.generate(n, cfg, rng)
    shifted = int(round(SHIFT_SHARE * n))
    new = world.generate(shifted, cfg, rng, colours=(*scene_lib.COLOURS, NEW_COLOUR),
                          must_include=(NEW_COLOUR,), **SHIFT_LIGHT)
    old = world.generate(n - shifted, cfg, rng)
    return old.concat(new).subset(rng.permutation(n))


def embeddings(model, images: np.ndarray) -> np.ndarray:
    """Mean-pooled encoder features: what the model 'sees', available for every request."""
    import torch

    with torch.no_grad():
        return model.encoder(torch.from_numpy(images)).mean(1).numpy()


def run(ctx) -> StageResult:
    from sklearn.decomposition import PCA

    from mlsd.designs.captioning.network import Vocabulary, expand_vocabulary
    from mlsd.designs.captioning.scoring import scores
    from mlsd.designs.captioning.training import confidence, train

    cfg = ctx.config
    model, train_split, val = ctx.need("model"), ctx.need("train"), ctx.need("val")
    ctx.seed_torch()
    pca = PCA(PCA_COMPONENTS, random_state=0)
    reference_pcs = pca.fit_transform(embeddings(model, train_split.images))
    val_captions, val_conf = confidence(model, val.images, cfg.max_len)
    val_bleu = scores(val_captions, val, cider=False)["bleu"]
    shift_day = cfg.monitor_days // 2 + 1

    rows, drift_day, confidence_day, label_day, deploy_day = [], None, None, None, None
    series = {"sample BLEU": [], "confidence x100": [], "PSI x100": []}
    production, retrained, version = model, None, 1
    false_alarms = quiet_days = 0  # scored against the truth afterwards; no alarm reads it
    daily_truth = []  # (day, BLEU, object F1) on all of the day's images: unrounded, for the summary
    daily_psi: list[float] = []  # on the days the embedding check ran
    pending_sample = None   # yesterday's routine labelled sample: captions arrive a day late
    ordered = None          # a targeted annotation batch, ordered when an unlabelled signal fires
    for day in range(1, cfg.monitor_days + 1):
        if ordered is not None and label_day is None:  # the targeted batch came back overnight
            confirm = scores(confidence(production, ordered.images, cfg.max_len)[0], ordered, cider=False)["bleu"]
            if confirm < BLEU_ALARM_SHARE * val_bleu:
                label_day, deploy_day = day, day + 1  # retrain today, validate, deploy tomorrow
                vocab = Vocabulary.build([c for refs in train_split.references + ordered.references for c in refs])
                retrained = expand_vocabulary(production, vocab)
                replay = train_split.subset(ctx.rng.permutation(len(train_split))[:REPLAY_PER_NEW * len(ordered)])
                train(retrained, replay.concat(ordered), cfg, epochs=cfg.retrain_epochs,
                      progress=ctx.progress, description="retraining on fresh captions")
            else:
                ordered = None  # a false alarm: keep watching
        if day == deploy_day:
            production, version = retrained, 2
        today = day_images(cfg, day, shift_day, ctx.rng, cfg.images_per_day)
        captions, conf = confidence(production, today.images, cfg.max_len)
        day_psi, psi_alarm, confidence_alarm = None, False, False
        if version == 1:  # the reference embeddings belong to the first model
            pcs = pca.transform(embeddings(production, today.images))
            day_psi = max(psi(reference_pcs[:, k], pcs[:, k]) for k in range(PCA_COMPONENTS))
            daily_psi.append(day_psi)
            floor = val_conf.mean() - CONFIDENCE_SIGMAS * val_conf.std() / np.sqrt(len(conf))
            psi_alarm, confidence_alarm = day_psi > PSI_ALARM, conf.mean() < floor
            if drift_day is None and psi_alarm:
                drift_day = day
            if confidence_day is None and confidence_alarm:
                confidence_day = day
        sample_bleu = scores(*pending_sample, cider=False)["bleu"] if pending_sample is not None else None
        routine_alarm = sample_bleu is not None and sample_bleu < BLEU_ALARM_SHARE * val_bleu
        if day < shift_day:  # a day the generator made without an incident (the first model serves)
            quiet_days += 1
            false_alarms += int(psi_alarm or confidence_alarm or routine_alarm)
        if ordered is None and label_day is None and (day in (drift_day, confidence_day) or routine_alarm):
            ordered = day_images(cfg, day, shift_day, ctx.rng, cfg.annotation_batch)  # more of today's uploads
        sample = np.arange(cfg.labelled_per_day)
        pending_sample = ([captions[i] for i in sample], today.subset(sample))
        truth = scores(captions, today, cider=False)
        daily_truth.append((day, truth["bleu"], truth["object_f1"]))
        new_share = np.mean([any(o.colour == NEW_COLOUR for o in s.objects) for s in today.scenes])
        rows.append([day, f"{new_share:.0%}", "" if day_psi is None else round(day_psi, 3),
                     round(float(conf.mean()), 3), "" if sample_bleu is None else round(sample_bleu, 1),
                     round(truth["bleu"], 1), round(truth["object_f1"], 3), f"v{version}"])
        series["sample BLEU"].append(sample_bleu)
        series["confidence x100"].append(100 * float(np.exp(conf.mean())))
        series["PSI x100"].append(None if day_psi is None else 100 * min(day_psi, 1.0))

    days = list(range(1, cfg.monitor_days + 1))
    end = deploy_day or cfg.monitor_days + 1
    periods = {"after": [d for d in daily_truth if d[0] >= end],
               "before": [d for d in daily_truth if shift_day <= d[0] < end],
               "steady": [d for d in daily_truth if d[0] < shift_day]}

    def mean(period: str, column: int) -> float:
        values = [d[column] for d in periods[period]]
        return float(np.mean(values)) if values else float("nan")

    return StageResult(
        stage="monitoring",
        headline=f"Purple objects in dim light from day {shift_day}: embedding drift flagged day {drift_day}, "
                 f"confidence day {confidence_day}; a targeted annotation batch confirmed it on day {label_day}; the "
                 f"retrained model, which knows the new word, serves from day {deploy_day}.",
        metrics=[
            metric("drift_alarm_day", drift_day if drift_day is not None else float("nan"), target=shift_day,
                   label="embedding PSI alarm (day)"),
            metric("confidence_alarm_day", confidence_day if confidence_day is not None else float("nan"),
                   target=shift_day),
            metric("label_alarm_day", label_day if label_day is not None else float("nan"),
                   label="drop confirmed by captioned images (day)"),
            metric("psi_max", max(daily_psi), label="largest daily embedding PSI"),
            metric("false_alarm_rate", false_alarms / quiet_days,
                   label=f"days without an incident on which an alarm fired ({false_alarms} of {quiet_days})"),
            metric("recovery_bleu", mean("after", 1), baseline=mean("before", 1),
                   label="BLEU-4 after retraining (baseline: shifted days before)"),
            metric("pre_incident_level", mean("steady", 1), label="BLEU-4 on the days before the shift"),
            metric("object_f1", mean("after", 2), baseline=mean("before", 2),
                   label=f"object F1 after retraining (baseline: shifted days before; {mean('steady', 2):.2f} "
                         "before the shift)"),
        ],
        tables=[Table("Day by day", ["day", "new colour", "embedding PSI", "confidence", "sample BLEU (labels)",
                                     "BLEU (all, truth)", "object F1 (truth)", "model"], rows,
                      caption=f"PSI: largest over the first {PCA_COMPONENTS} principal components of the encoder "
                              f"embedding, alarm above {PSI_ALARM}. Confidence: mean log-probability per word, alarm "
                              f"{CONFIDENCE_SIGMAS:g} standard errors below validation. Captions and confidence "
                              "come from greedy decoding, the cheapest to monitor with. Sample BLEU: "
                              f"{cfg.labelled_per_day} images captioned by annotators, known a day later; alarm below "
                              f"{BLEU_ALARM_SHARE:.0%} of validation BLEU ({BLEU_ALARM_SHARE * val_bleu:.1f}). "
                              "BLEU-4 is leave-one-out, as in the model stage. The truth columns are what nobody "
                              "sees in production.")],
        charts=[Chart("Signals by day", "day", "value",
                      [Series(name, days, values) for name, values in series.items()])],
        notes=[
            "Embeddings and confidence need no labels, so they fire on the launch day; they also order a "
            f"targeted annotation batch ({cfg.annotation_batch} of that day's images), whose captions confirm the "
            "drop a day later, far sooner and surer than the small routine sample would. The model cannot say 'purple' at all until the vocabulary is rebuilt: monitoring must catch "
            "what the model structurally cannot produce, not just what it gets slightly wrong.",
            "Retraining on the confirmed batch: the vocabulary expanded "
            f"(old word rows kept, new ones learned), fine-tuned on the new batch plus {REPLAY_PER_NEW}x as many "
            "old training images replayed beside it, so the old distribution is not forgotten and the fine-tune "
            "costs a fraction of a full retrain.",
            "The embedding PSI is measured against the model that made the embeddings; after retraining the "
            "reference distribution must be rebuilt from the new model, so the column stops there.",
        ],
    )
