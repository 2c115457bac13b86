"""Answer groups: written answers that are blank, identical, near-identical or use the same keywords.

A group lets the instructor grade many answers at once and then review the exceptions; the
grouping itself never gives a score (nothing here touches the gradebook). Similarity is
rapidfuzz's normalised Indel ratio (a well-kept C++ library already in the lock), on text
normalised so that case, Markdown punctuation and spacing do not count.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Near-identical: at least 90 % of the characters of the normalised answers in common (Indel
# ratio). Two answers that differ by a typo or a word or two of a short paragraph are at 93-99;
# two independent answers to the same question, using the same words, are at 50-80.
NEAR_RATIO = 90.0
# Only the start of each answer is compared for near-identity: the comparison costs len(a)*len(b)/64
# word operations, and 1,500 characters (a long paragraph) keep a class of a few hundred answers
# under a second while answers that agree that far are worth a look anyway.
COMPARE_CHARS = 1_500
# A keyword is a word of the model answer or rubric of at least 4 letters that is not a common word.
MIN_KEYWORD_LETTERS = 4
STOPWORDS = frozenset("""
about above after again against also because been before being below between both could does doing down
during each either every from further have having here into itself just more most much must only other
over same should since some such than that their them then there these they this those through under
until very what when where which while whom will with would your yours answer question because value
""".split())

_MARKUP = re.compile(r"[`*_#>\[\]()!~|\\$]+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Group:
    kind: str  # "blank", "identical", "near-identical", "same keywords"
    keys: tuple[str, ...]  # answer keys (pseudonyms), in the order given
    keywords: tuple[str, ...] = ()  # for "same keywords": the model answer's words they all use


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _SPACE.sub(" ", _MARKUP.sub(" ", text)).strip()


def keywords_of(guide: str) -> frozenset[str]:
    words = _WORD.findall(normalise(guide))
    return frozenset(w for w in words if len(w) >= MIN_KEYWORD_LETTERS and w not in STOPWORDS)


def group_answers(answers: dict[str, str], guide: str = "") -> list[Group]:
    """Groups of two or more answers (and every blank one), each answer in at most one group.

    ``answers``: key -> answer text; ``guide``: the model answer and rubric (their words are the
    keywords). Order of preference: blank, then identical or near-identical (one group per
    connected set of pairs), then the same set of keywords.
    """
    from rapidfuzz import fuzz, process

    normal = {key: normalise(text) for key, text in answers.items()}
    groups: list[Group] = []
    blank = tuple(k for k, text in normal.items() if not any(ch.isalnum() for ch in text))
    if blank:
        groups.append(Group("blank", blank))
    rest = [k for k in normal if k not in set(blank)]

    # Identical first, then join the distinct texts whose ratio reaches NEAR_RATIO (union-find).
    by_text: dict[str, list[str]] = {}
    for key in rest:
        by_text.setdefault(normal[key], []).append(key)
    texts = list(by_text)
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(texts) > 1:
        cut = [t[:COMPARE_CHARS] for t in texts]
        matrix = process.cdist(cut, cut, scorer=fuzz.ratio, score_cutoff=NEAR_RATIO, workers=1)
        for i in range(len(texts)):
            for j in range(i + 1, len(texts)):
                if matrix[i][j] >= NEAR_RATIO:
                    parent[find(i)] = find(j)
    clusters: dict[int, list[int]] = {}
    for i in range(len(texts)):
        clusters.setdefault(find(i), []).append(i)
    grouped: set[str] = set()
    for members in clusters.values():
        keys = tuple(k for i in members for k in by_text[texts[i]])
        if len(keys) > 1:
            groups.append(Group("identical" if len(members) == 1 else "near-identical", keys))
            grouped.update(keys)

    words = keywords_of(guide)
    if words:
        by_words: dict[frozenset, list[str]] = {}
        for key in rest:
            if key not in grouped:
                used = words & set(_WORD.findall(normal[key]))
                if used:
                    by_words.setdefault(frozenset(used), []).append(key)
        for used, keys in by_words.items():
            if len(keys) > 1:
                groups.append(Group("same keywords", tuple(keys), tuple(sorted(used))))
    order = {key: i for i, key in enumerate(answers)}
    return sorted(groups, key=lambda g: ({"blank": 0, "identical": 1, "near-identical": 2}.get(g.kind, 3),
                                         order[g.keys[0]]))
