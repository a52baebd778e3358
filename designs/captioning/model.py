"""Model: the CNN + attention-GRU captioner trained with teacher forcing, decoded
greedily and with beam search (widths 1, 3, 5), scored beside the retrieval and
most-frequent baselines and the human oracle, with one attention map."""

from __future__ import annotations

import time

import numpy as np

from mlsd.blocks.uncertainty import bootstrap, corpus_bleu, mean_of, paired_difference
from mlsd.designs.captioning import scenes as scene_lib
from mlsd.designs.captioning.problem import most_frequent_caption, nearest_neighbour_captions
from mlsd.designs.captioning.training import decode, scores, train
from mlsd.results import Chart, Series, StageResult, Table, metric
from mlsd.threads import training_threads

BEAM_WIDTHS = (1, 3, 5)
EXPORT_COLUMNS = {"greedy": "greedy", "beam 3": "beam_3", "beam 5": "beam_5", "most frequent caption": "most_frequent",
                  "nearest-neighbour retrieval": "retrieval", "a further human caption (oracle)": "human_oracle"}
SHADES = " .:-=+*#%@"


def shade_picture(grid: np.ndarray) -> str:
    """A 2-D array as lines of characters, darkest to brightest: a terminal picture."""
    g = (grid - grid.min()) / (np.ptp(grid) or 1.0)
    index = np.minimum((g * len(SHADES)).astype(int), len(SHADES) - 1)
    return "\n".join("".join(SHADES[i] * 2 for i in row) for row in index)


def attention_table(model, image: np.ndarray, max_len: int) -> Table:
    """Where the decoder looked for each word of one caption (8x8 grid per word)."""
    import torch

    captions, _, alphas = model.greedy(torch.from_numpy(image[None]), max_len)
    words = captions[0].split()
    side = int(round(alphas.shape[2] ** 0.5))
    grey = image.astype(np.float32).mean(axis=2)
    thumb = grey.reshape(side, grey.shape[0] // side, side, grey.shape[1] // side).mean(axis=(1, 3))
    content = [i for i, w in enumerate(words) if w not in ("a", "and", "the", "of", "to", "with", "it")][:4]
    columns = ["image"] + [words[i] for i in content]
    cells = [shade_picture(thumb)] + [shade_picture(alphas[0, i].view(side, side).numpy()) for i in content]
    peaks = [divmod(int(alphas[0, i].argmax()), side) for i in content]
    return Table(f"Attention for one test image: '{captions[0]}'", columns, [cells],
                 caption=f"Brighter = more attention over the 8x8 grid of encoder features; peak cells (row, column) "
                         f"{', '.join(map(str, peaks))}. Each cell sees 17x17 pixels, so one cell near the centre "
                         "can see most of the image: an attention map shows where the model reads, not why.")


def run(ctx) -> StageResult:
    import torch

    from mlsd.designs.captioning.network import Captioner

    cfg = ctx.config
    train_split, val, test, vocab = ctx.need("train"), ctx.need("val"), ctx.need("test"), ctx.need("vocab")
    ctx.seed_torch()
    torch.set_num_threads(training_threads())  # the runner restores it after the stage
    model = Captioner(vocab)
    started = time.perf_counter()
    history = train(model, train_split, cfg, epochs=cfg.epochs, progress=ctx.progress,
                    description="training the captioner", val=val)
    train_s = time.perf_counter() - started

    rows, results, hypotheses = [], {}, {}
    for width in BEAM_WIDTHS:
        started = time.perf_counter()
        hyps = decode(model, test.images, width, cfg.max_len)
        ms = (time.perf_counter() - started) * 1000 / len(test)
        name = "greedy" if width == 1 else f"beam {width}"
        results[name], hypotheses[name] = scores(hyps, test), hyps
        rows.append([f"captioner, {name}", *_cells(results[name]), round(ms, 2)])
    val_bleu = {w: scores(decode(model, val.images, w, cfg.max_len), val)["bleu"] for w in BEAM_WIDTHS}
    best_width = max(BEAM_WIDTHS, key=lambda w: (round(val_bleu[w], 1), -w))
    champion = "greedy" if best_width == 1 else f"beam {best_width}"

    baselines = {"most frequent caption": [most_frequent_caption(train_split)] * len(test),
                 "nearest-neighbour retrieval": nearest_neighbour_captions(train_split, test.images),
                 "a further human caption (oracle)": test.oracle}
    for name, hyps in baselines.items():
        results[name], hypotheses[name] = scores(hyps, test), hyps
        rows.append([name, *_cells(results[name]), ""])
    best, retrieval, oracle = results[champion], results["nearest-neighbour retrieval"], results[
        "a further human caption (oracle)"]
    # How sure: the test images resampled, the champion paired with retrieval.
    n = len(test)
    bleu = {name: corpus_bleu(hypotheses[name], test.streams) for name in (champion, "nearest-neighbour retrieval")}
    bleu_interval = bootstrap(bleu[champion], n, ctx.seed)
    bleu_gap = paired_difference(bleu[champion], bleu["nearest-neighbour retrieval"], n, ctx.seed)
    f1 = {name: mean_of([scene_lib.object_f1(h, s) for h, s in zip(hypotheses[name], test.scenes)])
          for name in (champion, "nearest-neighbour retrieval")}
    f1_interval = bootstrap(f1[champion], n, ctx.seed)
    f1_gap = paired_difference(f1[champion], f1["nearest-neighbour retrieval"], n, ctx.seed)

    epochs = [e for e, _, _ in history]
    return StageResult(
        stage="model",
        headline=f"CNN + attention GRU, {sum(p.numel() for p in model.parameters()):,} parameters, trained in "
                 f"{train_s:.0f} s; {champion} (chosen on validation BLEU) reaches BLEU-4 {best['bleu']:.1f} "
                 f"against {retrieval['bleu']:.1f} for retrieval.",
        metrics=[
            metric("bleu", best["bleu"], baseline=retrieval["bleu"], oracle=oracle["bleu"],
                   label=f"BLEU-4 ({champion}; baseline: retrieval)",
                   **bleu_interval.fields("ci"), **bleu_gap.fields("vs_baseline")),
            metric("cider", best["cider"], baseline=retrieval["cider"], oracle=oracle["cider"],
                   label=f"CIDEr-D ({champion})"),
            metric("object_f1", best["object_f1"], baseline=retrieval["object_f1"], oracle=oracle["object_f1"],
                   label=f"object F1 ({champion})", **f1_interval.fields("ci"), **f1_gap.fields("vs_baseline")),
        ],
        tables=[
            Table(f"Test set ({len(test)} images, {cfg.references} references each)",
                  ["system", "BLEU-4", "CIDEr-D", "object F1", "decode ms/image"], rows,
                  caption="BLEU-4: sacrebleu corpus_bleu over all references. CIDEr-D: mlsd.designs.captioning.cider (pycocoevalcap's "
                          "formula). Object F1: the generator's truth."),
            Table("Validation BLEU-4 by beam width (chooses the decoder)", ["decoder", "BLEU-4"],
                  [["greedy" if w == 1 else f"beam {w}", round(val_bleu[w], 1)] for w in BEAM_WIDTHS]),
            attention_table(model, test.images[0], cfg.max_len),
        ],
        charts=[Chart("Teacher-forcing loss by epoch", "epoch", "cross-entropy",
                      [Series("train", epochs, [t for _, t, _ in history]),
                       Series("validation", epochs, [v for _, _, v in history])])],
        notes=[
            f"Beam search keeps {best_width if best_width > 1 else 3} partial captions per image and scores finished "
            "ones by log-probability over length^0.7: it finds more probable, more 'typical' phrasings, which is "
            "what BLEU rewards; object F1 shows whether the content got better too.",
            f"The model's BLEU-4 {best['bleu']:.1f} against {oracle['bleu']:.1f} for a correct human caption: it "
            f"learns the references' most common wording. Its object F1 {best['object_f1']:.2f} against "
            f"{oracle['object_f1']:.2f} says how often it is actually wrong.",
            "Retrieval copies the caption of the most similar training image: right when a near-duplicate exists, "
            "wrong otherwise. The split by scene leaves no near-duplicates, which is why it scores low.",
        ],
        artifacts={"model": model, "decoder_width": best_width, "test_bleu": best["bleu"]},
        exports={"test_captions": {
            "image": np.arange(len(test)),
            **{f"ref_{i + 1}": np.array([r[i] for r in test.references]) for i in range(cfg.references)},
            **{EXPORT_COLUMNS[name]: np.array(h) for name, h in hypotheses.items()},
            "champion": np.array(hypotheses[champion]),  # the decoder whose BLEU and CIDEr are reported
        }},
    )


def _cells(r: dict[str, float]) -> list[float]:
    return [round(r["bleu"], 1), round(r["cider"], 3), round(r["object_f1"], 3)]
