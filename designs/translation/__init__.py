"""Design 9: Machine Translation. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='translation',
    title='Machine Translation',
    order=9,
    difficulty='hard',
    latency_budget_ms=200.0,
    latency_budget_text='< 200 ms',
    primary_metrics=('BLEU', 'chrF'),
    prerequisites=('captioning',),
    key_concepts=('subword tokenization', 'transformer encoder-decoder', 'beam search', 'quantization'),
    patterns=('encoder-decoder', 'beam search', 'dynamic batching'),
)
