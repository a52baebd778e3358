"""Design 2: Image Search. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='image-search',
    title='Image Search',
    order=2,
    difficulty='medium',
    latency_budget_ms=200.0,
    latency_budget_text='< 200 ms',
    primary_metrics=('Recall@K', 'latency'),
    prerequisites=('captioning',),
    key_concepts=('image embeddings', 'approximate nearest neighbours', 'FAISS index choice', 're-ranking'),
    patterns=('vector embeddings', 'two-stage retrieval+ranking'),
)
