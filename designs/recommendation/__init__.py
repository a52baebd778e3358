"""Design 3: Recommendation System. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='recommendation',
    title='Recommendation System',
    order=3,
    difficulty='medium',
    latency_budget_ms=100.0,
    latency_budget_text='< 100 ms',
    primary_metrics=('Recall@K', 'NDCG@K', 'CTR'),
    prerequisites=('image-search',),
    key_concepts=('two-tower retrieval', 'candidate generation', 'ranking', 'cold start', 'A/B testing'),
    patterns=('two-stage retrieval+ranking', 'vector embeddings', 'A/B testing', 'session modeling'),
)
