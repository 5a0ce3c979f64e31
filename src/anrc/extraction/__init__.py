"""Relations from raw text: sentences, candidate mentions, candidate pairs, each pair
classified in both orders, then decoded into relations.

    text -> sentences (text.py) -> mentions (mentions.py: a registered source)
         -> pairs within a window, both orders (pairs.py)
         -> label probabilities of every ordered pair (the classifier)
         -> relations (decode.py: threshold, one per pair, or the best pair of a sentence)

:func:`anrc.extraction.extract.extract` runs the whole path; ``RelationClassifier.extract``
and ``anrc extract`` call it.
"""

from anrc.extraction.decode import DECODINGS
from anrc.extraction.extract import Extraction, Mention, Options, Relation, extract, extract_many
from anrc.extraction.mentions import MENTION_SOURCES

__all__ = [
    "DECODINGS",
    "MENTION_SOURCES",
    "Extraction",
    "Mention",
    "Options",
    "Relation",
    "extract",
    "extract_many",
]
