"""The tokenisation rule, deterministic and documented.

A token is one of, tried in this order at each position:

1. a word: letters/digits/underscore, with inner hyphens, apostrophes or periods
   joining word pieces (``self-esteem``, ``o'clock``, ``U.S``, ``3.5``);
2. a clitic: an apostrophe followed by letters (``'s``, ``'re``);
3. any other single non-space character (punctuation, symbols).

Entity boundaries stay exact because the reader tokenises the text between tags
separately: a tag always falls on a token boundary. Lower-casing is applied by
the vocabulary (a setting), not here, so the tokens keep the original case.
"""

from __future__ import annotations

import re

TOKEN_RE = re.compile(r"\w+(?:[-'.]\w+)*|'[A-Za-z]+|\S")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into tokens by the rule above."""
    return TOKEN_RE.findall(text)
