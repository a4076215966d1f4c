"""parkwatch's extractor as a spaCy pipeline component, for users who work in spaCy.

    nlp = spacy.blank("en")                       # or a trained pipeline with its own NER
    nlp.add_pipe("parkwatch_entities")
    for doc in nlp.pipe(texts, batch_size=64):
        for span in doc.spans["parkwatch"]:       # label PARK / CITY / COMPANY, kb_id
            ...
        doc._.parkwatch                           # the EntityMention objects, exact offsets

The crawl itself calls ``Extractor.extract`` directly: measured on this project, running
spaCy's Chinese tokenizer over every article cost a third of the extraction time and gave it
nothing it needs (see nlp.extract). The component wraps the same extractor, built once per
pipeline, so both paths give identical mentions.
"""
from __future__ import annotations

from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from .extract import EntityMention, Extractor
from .kb import KnowledgeBase

SPAN_KEY = "parkwatch"

if not Doc.has_extension("parkwatch"):
    Doc.set_extension("parkwatch", default=None)


class ParkwatchEntities:
    """Adds ``doc.spans["parkwatch"]`` and ``doc._.parkwatch`` (list of EntityMention)."""

    def __init__(self, nlp: Language, name: str, kb_dir: str | None) -> None:
        self.name = name
        self.lang = "zh" if nlp.lang == "zh" else "en"
        self.extractor = Extractor(KnowledgeBase.load(Path(kb_dir) if kb_dir else None))

    def __call__(self, doc: Doc) -> Doc:
        mentions: list[EntityMention] = self.extractor.extract(doc.text, self.lang)
        spans = []
        for m in mentions:
            span = doc.char_span(m.start, m.end, label=m.type, kb_id=m.id or "",
                                 alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans[SPAN_KEY] = SpanGroup(doc, name=SPAN_KEY, spans=spans)
        doc._.parkwatch = mentions
        return doc


@Language.factory("parkwatch_entities", default_config={"kb_dir": None})
def make_parkwatch_entities(nlp: Language, name: str, kb_dir: str | None) -> ParkwatchEntities:
    """``kb_dir``: a knowledge-base directory (default: the bundled ``nlp/kb``)."""
    return ParkwatchEntities(nlp, name, kb_dir)
