"""The spaCy component gives the same mentions as the extractor, through nlp.pipe batches."""
from __future__ import annotations

import spacy

import nlp.spacy_component  # noqa: F401  (registers the factory)
from nlp.extract import Extractor
from nlp.kb import KnowledgeBase

EN = ["Gree Electric's 5G + Industrial Internet park in Zhuhai grew.",
      "Officials toured the parks run by Midea Kitchen Electric in Foshan.",
      "Nothing to see here."]
ZH = ["格力电器5G+工业互联网应用示范园区（珠海）投产。", "顺德的企业与广州明远精密机械有限公司签约。"]


def test_component_matches_extractor_through_pipe() -> None:
    ex = Extractor(KnowledgeBase.load())
    for lang, texts in (("en", EN), ("zh", ZH)):
        pipeline = spacy.blank(lang)
        pipeline.add_pipe("parkwatch_entities")
        docs = list(pipeline.pipe(texts, batch_size=2))
        for text, doc in zip(texts, docs):
            want = ex.extract(text, lang)
            assert doc._.parkwatch == want
            assert [(s.label_, s.kb_id_) for s in doc.spans["parkwatch"]] == [
                (m.type, m.id or "") for m in want]
    assert [s.text for s in docs[1].spans["parkwatch"]] == ["顺德", "广州明远精密机械有限公司", "广州"]
