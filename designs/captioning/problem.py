"""Problem: what is generated, how it is judged, the floors and the ceiling, the
500 ms budget and the capacity it takes. Generates the corpus the later stages use."""

from __future__ import annotations

import numpy as np

from mlsd.blocks.synthetic import scenes as scene_lib
from mlsd.designs.captioning import world
from mlsd.designs.captioning.network import NetConfig, multiply_adds
from mlsd.results import StageResult, Table, metric

BUDGET_ALLOCATION_MS = (
    ("network and image upload", 150.0),
    ("decode and resize the image", 20.0),
    ("queue wait for a batch", 30.0),
    ("encoder", 50.0),
    ("decoder (beam search)", 150.0),
    ("post-processing, safety filter, logging", 30.0),
    ("headroom", 70.0),
)
PILOT_POOL, PILOT_EVAL = 1000, 200
HUMAN = "human agreement (each reference against the others)"
DAY_S = 86_400


def nearest_neighbour_captions(pool: world.Split, queries: np.ndarray) -> list[str]:
    """Retrieval baseline: the first caption of the most similar training image, by L2
    distance of 8x8 colour thumbnails in a FAISS index."""
    import faiss

    def thumbnails(images: np.ndarray) -> np.ndarray:
        n, s = images.shape[0], images.shape[1]
        small = images.reshape(n, 8, s // 8, 8, s // 8, 3).mean(axis=(2, 4))
        return np.ascontiguousarray(small.reshape(n, -1), dtype=np.float32)

    index = faiss.IndexFlatL2(8 * 8 * 3)
    index.add(thumbnails(pool.images))
    _, nearest = index.search(thumbnails(queries), 1)
    return [pool.references[i][0] for i in nearest[:, 0]]


def most_frequent_caption(pool: world.Split) -> str:
    captions, counts = np.unique([c for refs in pool.references for c in refs], return_counts=True)
    return str(captions[int(counts.argmax())])


def wrong_colour(caption: str, rng: np.random.Generator) -> str:
    """The caption with one colour word swapped: nearly the same words, a false claim."""
    words = caption.split()
    spots = [i for i, w in enumerate(words) if w in scene_lib.COLOURS]
    i = spots[0]
    words[i] = str(rng.choice([c for c in scene_lib.COLOURS if c != words[i]]))
    return " ".join(words)


def run(ctx) -> StageResult:
    import sacrebleu

    from mlsd.designs.captioning.scoring import human_agreement, object_f1s, scores

    cfg = ctx.config
    raw = world.generate(cfg.n_train + cfg.n_val + cfg.n_test, cfg, ctx.rng)
    dirt = world.inject_dirt(raw, cfg.dirty_share, ctx.rng)

    # A small clean pilot, generated apart from the corpus, frames the metrics.
    pilot = world.generate(PILOT_POOL + PILOT_EVAL, cfg, ctx.rng)
    pool, evaluation = pilot.subset(np.arange(PILOT_POOL)), pilot.subset(np.arange(PILOT_POOL, len(pilot)))
    systems = {
        "most frequent caption": [most_frequent_caption(pool)] * len(evaluation),
        "nearest-neighbour retrieval (FAISS)": nearest_neighbour_captions(pool, evaluation.images),
    }
    results = {name: scores(hyps, evaluation) for name, hyps in systems.items()}
    results[HUMAN] = human = human_agreement(evaluation)
    frequent, retrieval = (results[name] for name in systems)

    # BLEU against judgement: the first reference is a human's correct caption in other
    # words; the second with one colour swapped is a false near-copy. Both are scored
    # against the same references, the second to the last.
    others = [refs[1:] for refs in evaluation.references]
    human_caption = [refs[0] for refs in evaluation.references]
    swapped = [wrong_colour(refs[1], ctx.rng) for refs in evaluation.references]
    paraphrase_bleu, swapped_bleu = (np.mean([sacrebleu.sentence_bleu(h, refs).score for h, refs in zip(hyps, others)])
                                     for hyps in (human_caption, swapped))
    paraphrase_f1, swapped_f1 = (object_f1s(hyps, evaluation.scenes).mean() for hyps in (human_caption, swapped))

    words = float(np.mean([len(c.split()) for refs in pool.references for c in refs]))
    mean_rps = cfg.production_images_per_day / DAY_S
    peak_rps = mean_rps * cfg.peak_to_mean
    vocabulary = len({w for refs in pool.references for c in refs for w in c.split()}) + 4  # + specials
    macs = multiply_adds(NetConfig(), cfg.image_size, vocabulary, words + 1, beam=3)
    gpus = peak_rps * 2 * macs / (cfg.gpu_effective_tflops * 1e12)
    objects = np.bincount([len(s.objects) for s in raw.scenes], minlength=4)[1:]

    return StageResult(
        stage="problem",
        headline=f"Caption each uploaded image in one sentence within ~500 ms; judge with BLEU-4 over "
                 f"{cfg.references} human references and object F1 for what the wording hides; the ceiling is "
                 f"human agreement (BLEU-4 {human['bleu']:.1f}, object F1 {human['object_f1']:.2f}).",
        metrics=[
            metric("rows", len(raw), label="images generated (before cleaning)"),
            metric("bleu", retrieval["bleu"], baseline=frequent["bleu"], oracle=human["bleu"],
                   label="BLEU-4 of retrieval (pilot; baseline: most frequent caption; oracle: human agreement)"),
            metric("object_f1", retrieval["object_f1"], baseline=frequent["object_f1"],
                   oracle=human["object_f1"], label="object F1 of retrieval (pilot; oracle: human captions)"),
            metric("cider", retrieval["cider"], baseline=frequent["cider"], oracle=human["cider"],
                   label="CIDEr-D of retrieval (pilot; oracle: human agreement)"),
            metric("peak_rps", peak_rps, label=f"peak images/s at {cfg.production_images_per_day:,.0f}/day"),
        ],
        tables=[
            Table("What is generated", ["quantity", "value"], [
                ["images", f"{len(raw):,} RGB {cfg.image_size}x{cfg.image_size}, noise, clutter strokes"],
                ["objects per image (1 / 2 / 3)", " / ".join(f"{n:,}" for n in objects)],
                ["shapes", ", ".join(scene_lib.SHAPES)],
                ["colours", ", ".join(scene_lib.COLOURS)],
                ["reference captions per image", f"{cfg.references} in different wordings"],
                ["rows corrupted on purpose", f"{sum(len(d) for d in vars(dirt).values()):,} "
                                              "(the data stage must find them)"],
            ]),
            Table(f"Floors and ceiling on a pilot set ({PILOT_EVAL} images, {PILOT_POOL} to retrieve from)",
                  ["system", "BLEU-4", "object F1", "CIDEr-D"],
                  [[name, round(r["bleu"], 1), round(r["object_f1"], 3), round(r["cider"], 3)]
                   for name, r in results.items()],
                  caption=f"Leave-one-out: every system, and each human reference, scored against the other "
                          f"{cfg.references - 1} references of its image, averaged over which one is left out. "
                          "Object F1: does the caption name the objects that are there (the generator knows)."),
            Table("BLEU against judgement (pilot, sentence BLEU averaged)", ["caption", "BLEU", "object F1"], [
                ["a correct caption in other words (human)", round(paraphrase_bleu, 1), round(paraphrase_f1, 3)],
                ["a reference with one colour swapped (false)", round(swapped_bleu, 1), round(swapped_f1, 3)],
            ], caption=f"Both against the same {cfg.references - 1} references: the human's is the first reference, "
                       "left out; the false one is the second with one colour swapped. n-gram overlap rewards "
                       "wording, not truth: the false near-copy scores higher."),
            Table("Latency budget allocation (plan; serving measures the model's share)", ["component", "budget ms"],
                  [[name, ms] for name, ms in BUDGET_ALLOCATION_MS]
                  + [["total", sum(ms for _, ms in BUDGET_ALLOCATION_MS)]]),
            Table("Capacity estimate", ["quantity", "value"], [
                ["volume", f"{cfg.production_images_per_day:,.0f} images/day"],
                ["mean rate", f"{mean_rps:,.0f} images/s"],
                ["peak (evening uploads)", f"{cfg.peak_to_mean:.1f}x mean = {peak_rps:,.0f} images/s"],
                ["model cost (beam 3, from layer shapes)", f"{macs / 1e6:.1f} M multiply-adds per image"],
                [f"GPUs at an assumed {cfg.gpu_effective_tflops:.0f} TFLOPS effective",
                 f"{gpus:.3f} of one GPU: a GPU is sized by latency and memory, not FLOPs"],
                ["CPU workers", "serving stage: peak rate / measured throughput with dynamic batching"],
            ]),
        ],
        notes=[
            f"Human agreement, each reference scored against the others, is BLEU-4 {human['bleu']:.1f}, not 100: "
            "references disagree with each other, so BLEU's ceiling is well below 100, and a model that learns "
            f"the most common phrasing can come close to it while naming the wrong objects. Object F1 "
            f"({human['object_f1']:.2f} for the human captions) is the headline beside BLEU for that reason.",
            f"The false near-copy scores sentence BLEU {swapped_bleu:.1f} against {paraphrase_bleu:.1f} for the "
            "correct paraphrase. Report a content check (here object F1; in production, human ratings on a "
            "sample) beside BLEU and CIDEr.",
            "CIDEr weights n-grams by TF-IDF across images, so words every caption shares ('a', 'shapes') "
            "count for little and the distinctive ones (colours, shapes) for much.",
        ],
        artifacts={"raw": raw, "dirt": dirt, "peak_rps": peak_rps},
    )
