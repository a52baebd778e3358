"""The image-search world: rendered scenes with captions, queries whose matching
images the generator knows, planted re-uploads, production-like embeddings for the
cost study, and new content for monitoring.

Relevance is structural, never learned: a text query names one or two objects (colour
and shape, sometimes size, sometimes where one is relative to the other), and an image
matches when its scene has those objects in that arrangement. An image query matches
images showing the same set of (colour, shape) objects, wherever they sit. So the
oracle, ranking by agreement with the query's attributes, is computable exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlsd.blocks.synthetic import scenes as scene_lib


@dataclass
class Gallery:
    scenes: list[scene_lib.Scene]
    images: np.ndarray  # uint8 (n, size, size, 3)
    captions: list[str]  # one uploader caption per image

    def __len__(self) -> int:
        return len(self.scenes)


@dataclass(frozen=True)
class ObjectSpec:
    """What a query says about one object; `size` None when the query does not say."""

    colour: str
    shape: str
    size: str | None


@dataclass(frozen=True)
class TextQuery:
    text: str
    objects: tuple[ObjectSpec, ...]
    relation: str | None  # of objects[0] to objects[1], when the query says


def render_gallery(n: int, size: int, rng: np.random.Generator, **scene_options) -> Gallery:
    scenes = scene_lib.sample_scenes(n, rng, **scene_options)
    images = scene_lib.render(scenes, rng, size=size)
    captions = [scene_lib.captions(s, rng, n=1)[0] for s in scenes]
    return Gallery(scenes, images, captions)


def _describe(spec: ObjectSpec) -> str:
    return " ".join(w for w in (spec.size, spec.colour, spec.shape) if w)


def text_queries(scenes: list[scene_lib.Scene], rng: np.random.Generator) -> list[TextQuery]:
    """One query per scene, describing part of it the way a user types: one or two of
    its objects, a size half the time, the arrangement of two objects half the time."""
    queries = []
    for scene in scenes:
        count = 1 if len(scene.objects) == 1 or rng.random() < 0.4 else 2
        picked = [scene.objects[i] for i in sorted(rng.choice(len(scene.objects), size=count, replace=False))]
        specs = tuple(ObjectSpec(o.colour, o.shape, o.size if rng.random() < 0.5 else None) for o in picked)
        rel = scene_lib.relation(picked[0], picked[1]) if count == 2 and rng.random() < 0.5 else None
        names = [f"a {_describe(s)}" for s in specs]
        text = names[0] if count == 1 else f"{names[0]} {rel} {names[1]}" if rel else f"{names[0]} and {names[1]}"
        queries.append(TextQuery(text, specs, rel))
    return queries


def _fits(spec: ObjectSpec, obj: scene_lib.SceneObject) -> bool:
    return spec.colour == obj.colour and spec.shape == obj.shape and spec.size in (None, obj.size)


def matches(query: TextQuery, scene: scene_lib.Scene) -> bool:
    """Whether the scene shows what the query asks for (objects in one scene never share
    both colour and shape, so each spec fits at most one object)."""
    found = []
    for spec in query.objects:
        hit = next((o for o in scene.objects if _fits(spec, o)), None)
        if hit is None:
            return False
        found.append(hit)
    return query.relation is None or scene_lib.relation(found[0], found[1]) == query.relation


def attribute_agreement(query: TextQuery, scene: scene_lib.Scene) -> float:
    """The oracle's score: a full match first, then partial matches by how many stated
    attributes some object shares (what a perfect reader of images would rank by)."""
    partial = sum(max((o.colour == s.colour) + (o.shape == s.shape) + (s.size is not None and o.size == s.size)
                      for o in scene.objects) for s in query.objects)
    return 100.0 * matches(query, scene) + partial


def object_set(scene: scene_lib.Scene) -> frozenset[tuple[str, str]]:
    return frozenset((o.colour, o.shape) for o in scene.objects)


def text_relevance(queries: list[TextQuery], scenes: list[scene_lib.Scene]) -> np.ndarray:
    """(queries, images) bool: which images each text query should find."""
    return np.array([[matches(q, s) for s in scenes] for q in queries], dtype=bool)


def image_relevance(query_scenes: list[scene_lib.Scene], scenes: list[scene_lib.Scene]) -> np.ndarray:
    """(queries, images) bool: images showing the query image's set of objects."""
    keys = [object_set(s) for s in scenes]
    return np.array([[object_set(q) == k for k in keys] for q in query_scenes], dtype=bool)


def plant_reuploads(gallery: Gallery, share: float, rng: np.random.Generator) -> tuple[Gallery, np.ndarray]:
    """Append re-uploads of random gallery images (the same picture re-encoded: a little
    pixel noise, sometimes a brightness change) and return which rows are copies."""
    n_copies = int(round(share * len(gallery)))
    source = rng.choice(len(gallery), size=n_copies, replace=False)
    copies = gallery.images[source].astype(np.float32)
    copies *= rng.uniform(0.93, 1.07, size=(n_copies, 1, 1, 1))  # re-encoded with other exposure
    copies += rng.normal(0, 4.0, size=copies.shape)
    images = np.concatenate([gallery.images, np.clip(copies, 0, 255).astype(np.uint8)])
    scenes = gallery.scenes + [gallery.scenes[i] for i in source]
    captions = gallery.captions + [gallery.captions[i] for i in source]
    is_copy = np.r_[np.zeros(len(gallery), bool), np.ones(n_copies, bool)]
    return Gallery(scenes, images, captions), is_copy


def production_embeddings(n: int, dim: int, latent_dim: int, clusters: int, world_seed: int,
                          rng: np.random.Generator) -> np.ndarray:
    """Unit vectors shaped like real image embeddings: clusters of content on a
    low-dimensional surface (`latent_dim`) inside `dim` dimensions, plus a little noise
    in every direction. Isotropic Gaussians would be the wrong test: IVF and PQ exploit
    exactly this structure and collapse without it. `world_seed` fixes the surface and
    the clusters, `rng` draws the points: two corpus sizes are samples of one world."""
    world = np.random.default_rng(world_seed)
    basis = np.linalg.qr(world.normal(size=(dim, latent_dim)))[0]  # an orthonormal latent surface
    centres = world.normal(size=(clusters, latent_dim))
    weights = world.dirichlet(np.full(clusters, 0.5))  # some kinds of content are far more common
    which = rng.choice(clusters, size=n, p=weights)
    latent = centres[which] + 0.35 * rng.normal(size=(n, latent_dim))
    vectors = latent @ basis.T + 0.05 * rng.normal(size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


@dataclass(frozen=True)
class SceneArrays:
    """Scenes as padded arrays (scenes, 3 object slots) so relevance over a whole
    gallery is a few numpy comparisons per query; empty slots have colour -1."""

    colour: np.ndarray
    shape: np.ndarray
    size: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, scenes: list[scene_lib.Scene]) -> SceneArrays:
        slots = max(scene_lib.OBJECT_COUNTS)
        colours, shapes = list(scene_lib.ALL_COLOURS), list(scene_lib.SHAPES + scene_lib.NEW_SHAPES)
        sizes = list(scene_lib.SIZES)
        out = {k: np.full((len(scenes), slots), -1, dtype=np.int16) for k in ("colour", "shape", "size")}
        pos = {k: np.zeros((len(scenes), slots)) for k in ("x", "y")}
        for i, scene in enumerate(scenes):
            for j, o in enumerate(scene.objects):
                out["colour"][i, j], out["shape"][i, j] = colours.index(o.colour), shapes.index(o.shape)
                out["size"][i, j] = sizes.index(o.size)
                pos["x"][i, j], pos["y"][i, j] = o.x, o.y
        return cls(**out, **pos)

    def fits(self, spec: ObjectSpec) -> np.ndarray:
        """(scenes, slots) bool: which object of each scene the spec describes."""
        fit = (self.colour == list(scene_lib.ALL_COLOURS).index(spec.colour)) & (
            self.shape == list(scene_lib.SHAPES + scene_lib.NEW_SHAPES).index(spec.shape))
        if spec.size is not None:
            fit &= self.size == list(scene_lib.SIZES).index(spec.size)
        return fit

    def agreement(self, spec: ObjectSpec) -> np.ndarray:
        """Per scene, the most stated attributes one of its objects shares with the spec."""
        score = (self.colour == list(scene_lib.ALL_COLOURS).index(spec.colour)).astype(np.int16)
        score += self.shape == list(scene_lib.SHAPES + scene_lib.NEW_SHAPES).index(spec.shape)
        if spec.size is not None:
            score += self.size == list(scene_lib.SIZES).index(spec.size)
        return np.where(self.colour >= 0, score, 0).max(axis=1)


def _relation_of(xa, ya, xb, yb) -> np.ndarray:
    """scenes.relation, vectorised."""
    dx, dy = xa - xb, ya - yb
    horizontal = np.where(dx < 0, "to the left of", "to the right of")
    vertical = np.where(dy < 0, "above", "below")
    return np.where(np.abs(dx) >= np.abs(dy), horizontal, vertical)


def text_relevance_fast(queries: list[TextQuery], arrays: SceneArrays) -> np.ndarray:
    """`text_relevance` over padded arrays: the same answer (a unit test checks), fast
    enough for thousands of queries against tens of thousands of images."""
    rows = np.arange(arrays.colour.shape[0])
    out = np.zeros((len(queries), rows.size), dtype=bool)
    for qi, q in enumerate(queries):
        fits = [arrays.fits(s) for s in q.objects]
        ok = np.logical_and.reduce([f.any(axis=1) for f in fits])
        if q.relation is not None:
            a, b = fits[0].argmax(axis=1), fits[1].argmax(axis=1)
            rel = _relation_of(arrays.x[rows, a], arrays.y[rows, a], arrays.x[rows, b], arrays.y[rows, b])
            ok &= rel == q.relation
        out[qi] = ok
    return out


def oracle_scores(queries: list[TextQuery], arrays: SceneArrays) -> np.ndarray:
    """(queries, images) attribute agreement, the oracle's ranking score: a full match
    scores 100 more than any partial one."""
    relevant = text_relevance_fast(queries, arrays)
    partial = np.array([sum(arrays.agreement(s) for s in q.objects) for q in queries])
    return 100.0 * relevant + partial
