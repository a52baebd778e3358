"""Design 1: Image Caption Generator. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='captioning',
    title='Image Caption Generator',
    order=1,
    difficulty='medium',
    latency_budget_ms=500.0,
    latency_budget_text='~500 ms',
    primary_metrics=('BLEU-4', 'CIDEr'),
    prerequisites=(),
    key_concepts=('CNN encoder', 'attention decoder', 'beam search', 'dynamic batching', 'BLEU vs human judgement'),
    patterns=('encoder-decoder', 'beam search', 'dynamic batching'),
)
