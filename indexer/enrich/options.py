"""What the enrichment steps do: NER on or off, how much text each step reads, the batch size,
the NER worker processes. Built from settings by `EnrichOptions.from_settings`."""

from __future__ import annotations

from dataclasses import dataclass

from services.settings import Settings


@dataclass(frozen=True)
class EnrichOptions:
    """What the stage does; built from settings by `from_settings`."""

    ner: bool = True
    ner_max_chars: int = 100_000
    pii_max_chars: int = 1_000_000
    batch_size: int = 64
    phone_region: str = "GB"
    near_dup_threshold: float = 0.8
    near_dup_min_words: int = 20
    ner_workers: int = 0  # processes running NER beside this one (0: NER runs here, in the caller's thread)

    @classmethod
    def from_settings(cls, settings: Settings) -> "EnrichOptions":
        return cls(ner=settings.ner, ner_max_chars=settings.ner_max_chars, phone_region=settings.phone_region, near_dup_threshold=settings.near_dup_threshold,
                   near_dup_min_words=settings.near_dup_min_words, ner_workers=settings.ner_workers)
