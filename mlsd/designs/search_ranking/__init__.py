"""Design 4: Search Ranking. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='search-ranking',
    title='Search Ranking',
    order=4,
    difficulty='medium',
    latency_budget_ms=200.0,
    latency_budget_text='< 200 ms',
    primary_metrics=('NDCG@10', 'MRR'),
    prerequisites=('recommendation',),
    key_concepts=('BM25', 'hybrid retrieval', 'LambdaMART', 'position bias', 'interleaving'),
    patterns=('two-stage retrieval+ranking', 'vector embeddings', 'A/B testing'),
)
