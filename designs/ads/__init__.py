"""Design 7: Ads Ranking. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='ads',
    title='Ads Ranking',
    order=7,
    difficulty='hard',
    latency_budget_ms=50.0,
    latency_budget_text='< 50 ms',
    primary_metrics=('AUC', 'log loss / normalized entropy', 'calibration', 'revenue'),
    prerequisites=('search-ranking', 'fraud'),
    key_concepts=('CTR prediction', 'calibration', 'auctions', 'budget pacing', 'delayed feedback'),
    patterns=('two-stage retrieval+ranking', 'auctions', 'ensembles', 'feature stores', 'A/B testing'),
)
