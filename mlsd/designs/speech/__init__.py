"""Design 10: Speech Recognition. Metadata only: its stages are not built yet."""

from mlsd.registry import DesignInfo

DESIGN = DesignInfo(
    slug='speech',
    title='Speech Recognition',
    order=10,
    difficulty='hard',
    latency_budget_ms=300.0,
    latency_budget_text='< 300 ms, RTF',
    primary_metrics=('WER', 'RTF'),
    prerequisites=('translation',),
    key_concepts=('log-mel features', 'CTC', 'LM fusion', 'streaming with look-ahead', 'diarization'),
    patterns=('encoder-decoder', 'beam search', 'dynamic batching', 'streaming inference'),
)
