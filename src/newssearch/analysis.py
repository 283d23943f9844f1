"""Text to searchable words: runs of letters and digits, case and accents folded, Snowball-stemmed.

Every word is kept, stop words included, so phrases keep their positions and `the` is searchable.
`Nagorno-Karabakh` is two words and `Azerbaijan's` is `azerbaijan` then `s`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import regex
import snowballstemmer

# A word starts with a letter or digit and may carry combining marks (Hindi vowel signs, accents).
_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}]*")
# ASCII text: letters lowercased, digits kept, everything else a space; then split.
_ASCII_WORDS = str.maketrans({c: c.lower() if c.isalnum() else " " for c in map(chr, range(128))})
# The same words in lowercased ASCII text; the stdlib's `re` finds them faster than `regex`.
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# The marks NFKD splits off Latin, Greek and Cyrillic letters; other scripts keep theirs.
# The breve of Cyrillic й and ў stays: they are letters of their own, not accented и and у.
_ACCENTS = regex.compile(r"[\u0300-\u0305\u0307-\u036f]|(?<![иуИУ])\u0306")

# Stems kept, cleared past this many: an archive's lexicon grows without end (names, typos),
# and a million cached stems held some 130 MB in every writer process; the writer looks a
# batch's words up once each anyway, so a smaller cache costs little (~8 MB at most).
_STEM_CACHE_LIMIT = 65_536


def languages() -> list[str]:
    """Returns the names of the languages Snowball can stem, e.g. `english`, `german`."""
    return sorted(snowballstemmer.algorithms())


def fold(word: str) -> str:
    """Returns `word` lowercased and without accents: `Café` -> `cafe`, `Straße` -> `strasse`."""
    if word.isascii():
        return word.lower()
    return unicodedata.normalize(
        "NFC", _ACCENTS.sub("", unicodedata.normalize("NFKD", word))
    ).casefold()


def fold_keyword(value: str) -> str:
    """Returns a keyword value (a tag, a source) as the index holds it: folded as `fold` does,
    without the spaces at either end that folding can make (`0¯` -> `0 ` -> `0`)."""
    return fold(value.strip()).strip()


def _fold_word(word: str) -> list[str]:
    # Folding can split a word (`½` -> `1⁄2`) or empty it (a lone mark).
    folded = fold(word)
    return [folded] if folded.isalnum() else _WORD.findall(folded)


def words(text: str) -> list[str]:
    """Returns the folded words of `text`, in order."""
    if text.isascii():
        return text.translate(_ASCII_WORDS).split()
    return [part for word in _WORD.findall(text) for part in _fold_word(word)]


def spans(text: str) -> list[tuple[int, int, str]]:
    """Returns (start, end, folded word) for each word of `text`, offsets into `text` itself.

    The words are exactly those of `words(text)`; a word folding splits shares its span.
    """
    if text.isascii():
        # Lowercasing ASCII keeps every offset, and folds each word as `fold` would.
        return [(m.start(), m.end(), m[0]) for m in _ASCII_WORD.finditer(text.lower())]
    return _any_spans(text)


def _any_spans(text: str) -> list[tuple[int, int, str]]:
    # `spans` for text in any script, ASCII too.
    return [
        (match.start(), match.end(), part)
        for match in _WORD.finditer(text)
        for part in _fold_word(match.group())
    ]


class Stemmer:
    """Snowball stemming for one language, with a cache of the stems already seen."""

    def __init__(self, language: str) -> None:
        if language not in snowballstemmer.algorithms():
            raise ValueError(
                f"unknown language {language!r}; Snowball offers: {', '.join(languages())}"
            )
        self.language = language
        self._stemmer = snowballstemmer.stemmer(language)
        self._cache: dict[str, str] = {}

    def uncached(self, word: str) -> str:
        """Returns the stem of a folded word, leaving the cache alone (for a caller that keeps
        its own: the writer numbers each word once per segment)."""
        stem: str = self._stemmer.stemWord(word)
        return stem

    def stem(self, word: str) -> str:
        """Returns the stem of a folded word: `plans`, `planned` -> `plan`."""
        try:
            return self._cache[word]
        except KeyError:
            if len(self._cache) >= _STEM_CACHE_LIMIT:
                self._cache.clear()
            stem = self._cache[word] = self.uncached(word)
            return stem

    def stems(self, text: str) -> list[str]:
        """Returns the stems of the words of `text`, one per position."""
        return [self.stem(word) for word in words(text)]


@cache
def stemmer(language: str) -> Stemmer:
    """Returns the shared Stemmer for `language`; raises ValueError for an unknown one."""
    return Stemmer(language)
