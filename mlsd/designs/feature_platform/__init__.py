"""Design 8: Real-time Feature Platform. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='feature-platform',
    title='Real-time Feature Platform',
    order=8,
    difficulty='hard',
    latency_budget_ms=5.0,
    latency_budget_text='< 5 ms serving',
    primary_metrics=('freshness', 'skew', 'drift'),
    prerequisites=('fraud',),
    key_concepts=('point-in-time joins', 'online/offline stores', 'materialization', 'train/serve skew', 'freshness'),
    patterns=('feature stores', 'real-time aggregations'),
)
