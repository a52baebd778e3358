"""Model: the CNN + attention-GRU captioner trained with teacher forcing, decoded
greedily and with beam search (widths 1, 3, 5), scored leave-one-out beside the
retrieval and most-frequent baselines and the ceiling, human agreement, with one
attention map."""

from __future__ import annotations

import time

import numpy as np

from mlsd.blocks.uncertainty import bootstrap, mean_of, paired_difference
from mlsd.designs.captioning.problem import HUMAN, most_frequent_caption, nearest_neighbour_captions
from mlsd.designs.captioning.scoring import human_agreement, object_f1s, scores, system_bleu
from mlsd.designs.captioning.training import decode, train
from mlsd.results import Chart, Series, StageResult, Table, metric
from mlsd.threads import training_threads

BEAM_WIDTHS = (1, 3, 5)
EXPORT_COLUMNS = {"greedy": "greedy", "beam 3": "beam_3", "beam 5": "beam_5", "most frequent caption": "most_frequent",
                  "nearest-neighbour retrieval": "retrieval"}
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
    val_stats = {w: system_bleu(decode(model, val.images, w, cfg.max_len), val.references) for w in BEAM_WIDTHS}
    best_width, val_gaps = choose_width(val_stats, len(val), ctx.seed)
    champion = "greedy" if best_width == 1 else f"beam {best_width}"

    baselines = {"most frequent caption": [most_frequent_caption(train_split)] * len(test),
                 "nearest-neighbour retrieval": nearest_neighbour_captions(train_split, test.images)}
    for name, hyps in baselines.items():
        results[name], hypotheses[name] = scores(hyps, test), hyps
        rows.append([name, *_cells(results[name]), ""])
    results[HUMAN] = human_agreement(test)
    rows.append([HUMAN, *_cells(results[HUMAN]), ""])
    best, retrieval, human = results[champion], results["nearest-neighbour retrieval"], results[HUMAN]
    # How sure: the test images resampled, the champion paired with retrieval.
    n = len(test)
    bleu = {name: system_bleu(hypotheses[name], test.references) for name in (champion, "nearest-neighbour retrieval")}
    bleu_interval = bootstrap(bleu[champion], n, ctx.seed)
    bleu_gap = paired_difference(bleu[champion], bleu["nearest-neighbour retrieval"], n, ctx.seed)
    f1 = {name: mean_of(object_f1s(hypotheses[name], test.scenes))
          for name in (champion, "nearest-neighbour retrieval")}
    f1_interval = bootstrap(f1[champion], n, ctx.seed)
    f1_gap = paired_difference(f1[champion], f1["nearest-neighbour retrieval"], n, ctx.seed)

    epochs = [e for e, _, _ in history]
    return StageResult(
        stage="model",
        headline=f"CNN + attention GRU, {sum(p.numel() for p in model.parameters()):,} parameters, trained in "
                 f"{train_s:.0f} s; {champion} (chosen on validation BLEU) reaches BLEU-4 {best['bleu']:.1f} and "
                 f"object F1 {best['object_f1']:.2f}, against {retrieval['bleu']:.1f} and "
                 f"{retrieval['object_f1']:.2f} for retrieval and {human['bleu']:.1f} and {human['object_f1']:.2f} "
                 "for human agreement.",
        metrics=[
            metric("bleu", best["bleu"], baseline=retrieval["bleu"], oracle=human["bleu"],
                   label=f"BLEU-4 leave-one-out ({champion}; baseline: retrieval; oracle: human agreement)",
                   **bleu_interval.fields("ci"), **bleu_gap.fields("vs_baseline")),
            metric("object_f1", best["object_f1"], baseline=retrieval["object_f1"], oracle=human["object_f1"],
                   label=f"object F1 ({champion}; baseline: retrieval; oracle: human captions)",
                   **f1_interval.fields("ci"), **f1_gap.fields("vs_baseline")),
            metric("cider", best["cider"], baseline=retrieval["cider"], oracle=human["cider"],
                   label=f"CIDEr-D leave-one-out ({champion}; oracle: human agreement)"),
        ],
        tables=[
            Table(f"Test set ({len(test)} images, {cfg.references} references each)",
                  ["system", "BLEU-4", "object F1", "CIDEr-D", "decode ms/image"], rows,
                  caption=f"Leave-one-out, as COCO scores human agreement: each system, and each human reference, "
                          f"against the other {cfg.references - 1} references of its image, averaged over which one "
                          "is left out. BLEU-4: sacrebleu's corpus BLEU. CIDEr-D: mlsd.designs.captioning.cider "
                          "(pycocoevalcap's formula). Object F1: the generator's truth; for the humans, the mean "
                          "over every reference."),
            Table("Validation BLEU-4 by beam width (chooses the decoder)",
                  ["decoder", "BLEU-4", "best minus this, 95% interval"],
                  [["greedy" if w == 1 else f"beam {w}", round(val_stats[w](), 1),
                    f"{val_gaps[w].low:+.1f} to {val_gaps[w].high:+.1f}" if w in val_gaps else "best"]
                   for w in BEAM_WIDTHS],
                  caption="The decoder is the narrowest width whose gap to the best is within noise (the paired "
                          "bootstrap interval includes 0): a wider beam costs several times the decode time, so "
                          "it has to be clearly better to be worth it."),
            attention_table(model, test.images[0], cfg.max_len),
        ],
        charts=[Chart("Teacher-forcing loss by epoch", "epoch", "cross-entropy",
                      [Series("train", epochs, [t for _, t, _ in history]),
                       Series("validation", epochs, [v for _, _, v in history])])],
        notes=[
            f"Beam search keeps {best_width if best_width > 1 else 3} partial captions per image and scores finished "
            "ones by log-probability over length^0.7: it finds more probable, more 'typical' phrasings, which is "
            "what BLEU rewards; object F1 shows whether the content got better too.",
            f"The model's BLEU-4 {best['bleu']:.1f} against {human['bleu']:.1f} for human agreement: it learns "
            f"the references' most common wording, which BLEU rewards. Its object F1 {best['object_f1']:.2f} "
            f"against {human['object_f1']:.2f} for the human captions says how often it is actually wrong.",
            "Retrieval copies the caption of the most similar training image: right when a near-duplicate exists, "
            "wrong otherwise. The split by scene leaves no near-duplicates, which is why it scores low.",
        ],
        artifacts={"model": model, "decoder_width": best_width, "test_bleu": best["bleu"]},
        exports={"test_captions": {
            "image": np.arange(len(test)),
            **{f"ref_{i + 1}": np.array([r[i] for r in test.references]) for i in range(cfg.references)},
            **{EXPORT_COLUMNS[name]: np.array(h) for name, h in hypotheses.items()},
            "champion": np.array(hypotheses[champion]),  # the decoder whose BLEU, object F1 and CIDEr are reported
        }},
    )


def choose_width(val_stats: dict, n: int, seed: int) -> tuple[int, dict]:
    """The narrowest beam width not significantly worse on validation BLEU than the best
    (paired 95% bootstrap over validation images), and each other width's gap interval.
    Picking the maximum outright would follow differences smaller than the noise, which
    the thread count training ran on is enough to flip."""
    best = max(BEAM_WIDTHS, key=lambda w: val_stats[w](np.ones(n)))  # every image once: the point estimate
    gaps = {w: paired_difference(val_stats[best], val_stats[w], n, seed) for w in BEAM_WIDTHS if w != best}
    return min(w for w in BEAM_WIDTHS if w == best or not gaps[w].excludes_zero()), gaps


def _cells(r: dict[str, float]) -> list[float]:
    return [round(r["bleu"], 1), round(r["object_f1"], 3), round(r["cider"], 3)]
