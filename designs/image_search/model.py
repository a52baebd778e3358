"""Model: a CLIP-style dual encoder trained with symmetric InfoNCE, against random
ranking, raw pixels and the attribute-agreement oracle, for text and image queries.
Two widths of the shared space are trained side by side; validation picks one."""

from __future__ import annotations

import numpy as np

from mlsd.blocks.uncertainty import bootstrap, mean_of, paired_difference
from mlsd.designs.image_search import encoders, retrieval
from mlsd.designs.image_search import world as world_lib
from mlsd.designs.image_search.problem import thumbnails
from mlsd.results import StageResult, Table, metric

SEARCH_TEXT_SHARE = 0.5  # of training texts per epoch: a search-style description instead of a caption


def training_texts(train, captions: list[list[str]], seed: int):
    """Per epoch, one text per training image: one of its captions, or a fresh partial
    description of the kind users type (click logs give such pairs in production)."""
    def texts_for(epoch: int) -> list[str]:
        rng = np.random.default_rng([seed, epoch])
        described = world_lib.text_queries(train.scenes, rng)
        pick = rng.integers(0, len(captions[0]), len(captions))
        use_caption = rng.random(len(captions)) >= SEARCH_TEXT_SHARE
        return [caps[p] if c else d.text for caps, p, c, d in zip(captions, pick, use_caption, described)]
    return texts_for


def evaluate(model, gallery_vectors: np.ndarray, probes, text_queries, arrays, k: int) -> dict[str, np.ndarray]:
    """Top-k gallery rows for each text and image query (exact inner-product search)."""
    text = model.embed_texts([q.text for q in text_queries])
    image = model.embed_images(probes.images)
    return {"text": retrieval.exact_top(text, gallery_vectors, k), "image": retrieval.exact_top(image, gallery_vectors, k)}


def run(ctx) -> StageResult:
    cfg = ctx.config
    gallery, train, captions = ctx.need("gallery"), ctx.need("train"), ctx.need("train_captions")
    queries = ctx.need("queries")
    ctx.seed_torch()
    vocab = encoders.WordVocabulary([c for caps in captions for c in caps]
                                    + [q.text for q in world_lib.text_queries(train.scenes, ctx.rng)])
    texts_for = training_texts(train, captions, ctx.seed)
    models, losses = {}, {}
    for dim in (cfg.embed_dim, cfg.small_embed_dim):
        models[dim] = encoders.DualEncoder(vocab, cfg.image_size, dim)
        losses[dim] = encoders.train(models[dim], train.images, texts_for, epochs=cfg.epochs,
                                     batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                                     progress=ctx.progress, description=f"training the {dim}-d dual encoder")

    arrays = world_lib.SceneArrays.of(gallery.scenes)
    k = max(retrieval.KS)
    relevance, tops, vectors = {}, {}, {}
    for split, (probes, text_q) in queries.items():
        relevance[split] = {"text": world_lib.text_relevance_fast(text_q, arrays),
                            "image": world_lib.image_relevance(probes.scenes, gallery.scenes)}
    for dim, model in models.items():
        chunks = range(0, len(gallery), encoders.EMBED_CHUNK)
        vectors[dim] = np.concatenate([model.embed_images(gallery.images[s:s + encoders.EMBED_CHUNK]) for s in
                                       ctx.progress.track(chunks, total=len(chunks),
                                                          description=f"embedding the gallery ({dim}-d)")])
        for split, (probes, text_q) in queries.items():
            tops[dim, split] = evaluate(model, vectors[dim], probes, text_q, arrays, k)

    def recall10(top, rel):
        keep = rel.any(axis=1)
        return retrieval.recall_at(top[keep], rel[keep], k)

    val_recall = {dim: float(recall10(tops[dim, "val"]["text"], relevance["val"]["text"]).mean()) for dim in models}
    chosen = max(val_recall, key=lambda d: (val_recall[d], d))
    probes, text_q = queries["test"]
    rel_t, rel_i = relevance["test"]["text"], relevance["test"]["image"]
    keep_t, keep_i = rel_t.any(axis=1), rel_i.any(axis=1)
    systems_text = {
        "random ranking": retrieval.top_by_score(np.zeros(rel_t.shape), k, ctx.rng),
        **{f"dual encoder, {d}-d" + (" (chosen)" if d == chosen else ""): tops[d, "test"]["text"] for d in models},
        "oracle: attribute agreement": retrieval.top_by_score(world_lib.oracle_scores(text_q, arrays), k, ctx.rng),
    }
    systems_image = {
        "random ranking": retrieval.top_by_score(np.zeros(rel_i.shape), k, ctx.rng),
        "raw pixels (8x8 thumbnails)": retrieval.exact_top(thumbnails(probes.images), thumbnails(gallery.images), k),
        **{f"dual encoder, {d}-d" + (" (chosen)" if d == chosen else ""): tops[d, "test"]["image"] for d in models},
        "oracle: same objects": retrieval.top_by_score(rel_i.astype(float), k, ctx.rng),
    }
    per_query = {
        "text": recall10(tops[chosen, "test"]["text"], rel_t),
        "text random": recall10(systems_text["random ranking"], rel_t),
        "image": recall10(tops[chosen, "test"]["image"], rel_i),
        "image pixels": recall10(systems_image["raw pixels (8x8 thumbnails)"], rel_i),
    }
    value = {name: float(v.mean()) for name, v in per_query.items()}
    text_ci = bootstrap(mean_of(per_query["text"]), int(keep_t.sum()), ctx.seed)
    text_gap = paired_difference(mean_of(per_query["text"]), mean_of(per_query["text random"]), int(keep_t.sum()), ctx.seed)
    image_ci = bootstrap(mean_of(per_query["image"]), int(keep_i.sum()), ctx.seed)
    image_gap = paired_difference(mean_of(per_query["image"]), mean_of(per_query["image pixels"]),
                                  int(keep_i.sum()), ctx.seed)
    oracle_text = float(recall10(systems_text["oracle: attribute agreement"], rel_t).mean())
    oracle_image = float(recall10(systems_image["oracle: same objects"], rel_i).mean())
    recall1 = float(retrieval.recall_at(tops[chosen, "test"]["text"][keep_t], rel_t[keep_t], 1).mean())
    recall1_random = float(retrieval.recall_at(systems_text["random ranking"][keep_t], rel_t[keep_t], 1).mean())
    model = models[chosen]
    temperature = float(1 / model.logit_scale.detach().clamp(max=encoders.MAX_LOGIT_SCALE).exp())

    chosen_top = tops[chosen, "test"]
    return StageResult(
        stage="model",
        headline=f"The {chosen}-d dual encoder finds a matching image in the top 10 for {value['text']:.0%} of text "
                 f"queries (random {value['text random']:.0%}, oracle {oracle_text:.0%}) and {value['image']:.0%} of "
                 f"image queries (raw pixels {value['image pixels']:.0%}).",
        metrics=[
            metric("recall_at_10", value["text"], baseline=value["text random"], oracle=oracle_text,
                   label="text→image Recall@10 (baseline: random)", **text_ci.fields("ci"),
                   **text_gap.fields("vs_baseline")),
            metric("recall_at_1", recall1, baseline=recall1_random, label="text→image Recall@1 (baseline: random)"),
            metric("image_recall_at_10", value["image"], baseline=value["image pixels"], oracle=oracle_image,
                   label="image→image Recall@10 (baseline: raw pixels)", **image_ci.fields("ci"),
                   **image_gap.fields("vs_baseline")),
            metric("temperature", temperature, label="learned softmax temperature of the chosen model"),
        ],
        tables=[
            Table(f"Text → image on {int(keep_t.sum())} test queries", retrieval.QUALITY_COLUMNS,
                  [retrieval.quality_row(n, t[keep_t], rel_t[keep_t]) for n, t in systems_text.items()],
                  caption=f"{len(gallery):,} gallery images, exact inner-product search. Queries with no matching "
                          f"image ({int((~keep_t).sum())}) are left out: nothing can find one."),
            Table(f"Image → image on {int(keep_i.sum())} test queries", retrieval.QUALITY_COLUMNS,
                  [retrieval.quality_row(n, t[keep_i], rel_i[keep_i]) for n, t in systems_image.items()],
                  caption="A match shows the same set of (colour, shape) objects, anywhere in the picture."),
            Table("Width of the shared space (chosen on validation)", ["embedding dim", "validation Recall@10",
                                                                       "test Recall@10", "final loss", "bytes / vector"],
                  [[d, round(val_recall[d], 3), round(float(recall10(tops[d, "test"]["text"], rel_t).mean()), 3),
                    round(losses[d][-1], 3), 4 * d] for d in models]),
        ],
        notes=[
            f"Both towers map into one {chosen}-d unit sphere; each training step treats the batch's other "
            f"{cfg.batch_size - 1} texts (and images) as negatives, so the batch size sets how hard the task is.",
            f"The learned temperature settled at {temperature:.3f} (CLIP starts at 0.07): sharper logits once "
            "the towers agree.",
            f"Validation picked {chosen} dimensions ({val_recall[chosen]:.3f} against "
            f"{val_recall[min(models) if chosen == max(models) else max(models)]:.3f}); a narrower space saves "
            "index memory and search time per vector.",
            "The oracle ranks by how many of the query's stated attributes an image shows: what a perfect "
            "reader of images reaches. Raw pixels match colour and layout, not objects.",
        ],
        artifacts={"encoder": model, "gallery_vectors": vectors[chosen], "relevance": relevance["test"],
                   "arrays": arrays},
        exports={
            "results": {
                "query": np.repeat(np.arange(len(text_q)), k), "text": np.repeat([q.text for q in text_q], k),
                "rank": np.tile(np.arange(1, k + 1), len(text_q)), "image": chosen_top["text"].ravel()},
            "ground_truth": {"query": np.nonzero(rel_t)[0], "image": np.nonzero(rel_t)[1]},
        },
    )
