"""Design 6: Real-time Personalization. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='personalization',
    title='Real-time Personalization',
    order=6,
    difficulty='hard',
    latency_budget_ms=50.0,
    latency_budget_text='< 50 ms',
    primary_metrics=('HR@K', 'NDCG@K', 'regret', 'CTR'),
    prerequisites=('recommendation', 'fraud'),
    key_concepts=('session features', 'contextual bandits', 'exploration vs exploitation', 'online learning'),
    patterns=('session modeling', 'bandits', 'real-time aggregations', 'feature stores', 'A/B testing', 'vector embeddings'),
)
