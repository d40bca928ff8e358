"""Guessing the text encoding of attribute bytes (DBF values, CSV text).

The candidates are the ones ASEAN survey files use: UTF-8, Windows-1252 (Western), Windows-874 /
TIS-620 (Thai) and Windows-1258 (Vietnamese). Each single-byte candidate decodes the sample and is
scored by how plausible the non-ASCII letters are for its script (Thai marks after a consonant,
Vietnamese tone marks after a vowel, Western accents alone inside Latin words).
"""

import codecs
import re
import unicodedata
from dataclasses import dataclass, field

UTF8 = "utf-8"
SINGLE_BYTE = ("cp1252", "cp1258", "cp874")
UTF8_BOM = b"\xef\xbb\xbf"
MAX_EXAMPLES = 8

_ALIASES = {
    "utf8": UTF8,
    "utf-8": UTF8,
    "utf_8": UTF8,
    "65001": UTF8,
    "utf-8-sig": UTF8,
    "unicode": UTF8,
    "ansi 1252": "cp1252",
    "1252": "cp1252",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
    "874": "cp874",
    "cp874": "cp874",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "tis620": "cp874",
    "tis_620": "cp874",
    "iso-8859-11": "cp874",
    "8859-11": "cp874",
    "iso8859-11": "cp874",
    "88591": "latin-1",
    "8859-1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
    "latin1": "latin-1",
    "1258": "cp1258",
    "windows-1258": "cp1258",
    "cp1258": "cp1258",
    "ascii": UTF8,
    "us-ascii": UTF8,
}
_THAI_CONSONANT = range(0x0E01, 0x0E2F)
_THAI_MARKS = {0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)}
_THAI_LEADING_VOWELS = range(0x0E40, 0x0E45)
_VIETNAMESE_TONES = {0x0300, 0x0301, 0x0303, 0x0309, 0x0323}
_VIETNAMESE_LETTERS = set(
    "àáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝĂĐĨŨƠƯẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ"
)
_VOWELS = set("aeiouyAEIOUY") | {
    ch for ch in _VIETNAMESE_LETTERS if unicodedata.decomposition(ch)[:4] not in ("0111", "0110")
} - {"đ", "Đ"}
# Western letters that are real but rare (Icelandic, Portuguese): they weigh less in cp1252.
_RARE_WESTERN = set("ðÐþÞýÝõÕãÃ")
_SPLIT = re.compile(rb"[\r\n\t\x00,;|\"]+")


@dataclass(frozen=True)
class EncodingGuess:
    """What the bytes are most likely encoded in; `examples` are decoded non-ASCII values."""

    encoding: str  # a Python codec name: "utf-8", "cp1252", "cp874", "cp1258", ...
    confidence: float  # 0 to 1
    declared: str | None = None  # the declared encoding, normalised (None when absent/unknown)
    conflicts_with_declared: bool = False
    has_bom: bool = False
    is_ascii: bool = False
    examples: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)


def normalise_encoding(label: str | None) -> str | None:
    """A declared encoding (.cpg text, a form value) as a Python codec name, or None."""
    if not label:
        return None
    text = label.strip().strip("\x00").strip().lower()
    if not text:
        return None
    if text in _ALIASES:
        return _ALIASES[text]
    candidate = f"cp{text}" if text.isdigit() else text
    try:
        name = codecs.lookup(candidate).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def detect_text_encoding(sample: bytes, declared: str | None) -> EncodingGuess:
    """Guess the encoding of `sample`; flag a conflict when it contradicts `declared`."""
    declared_codec = normalise_encoding(declared)
    has_bom = sample.startswith(UTF8_BOM)
    if has_bom:
        sample = sample[len(UTF8_BOM) :]
    non_ascii = sum(1 for b in sample if b >= 0x80)
    if non_ascii == 0:
        return EncodingGuess(
            encoding=declared_codec or UTF8,
            confidence=1.0,
            declared=declared_codec,
            has_bom=has_bom,
            is_ascii=True,
        )
    utf8_score = _utf8_score(sample)
    if has_bom or utf8_score >= 0.9:
        confidence = 1.0 if has_bom else min(0.99, utf8_score)
        return EncodingGuess(
            encoding=UTF8,
            confidence=round(confidence, 2),
            declared=declared_codec,
            conflicts_with_declared=declared_codec not in (None, UTF8),
            has_bom=has_bom,
            examples=_examples(sample, UTF8),
            scores={UTF8: round(utf8_score, 3)},
        )
    candidates = list(SINGLE_BYTE)
    if declared_codec and declared_codec not in candidates and declared_codec != UTF8:
        candidates.append(declared_codec)
    scores = {name: _single_byte_score(sample, name) for name in candidates}
    ranked = sorted(candidates, key=lambda n: (-scores[n], _preference(n, declared_codec)))
    best = ranked[0]
    if declared_codec in scores and scores[declared_codec] >= scores[best] - 0.05:
        best = declared_codec
    second = max((scores[n] for n in candidates if n != best), default=0.0)
    margin = max(0.0, scores[best] - second)
    confidence = scores[best] * (0.5 + 0.5 * min(1.0, margin / 0.3))
    if non_ascii < 3:
        confidence = min(confidence, 0.6)
    return EncodingGuess(
        encoding=best,
        confidence=round(confidence, 2),
        declared=declared_codec,
        conflicts_with_declared=declared_codec is not None and declared_codec != best,
        has_bom=False,
        examples=_examples(sample, best),
        scores={n: round(s, 3) for n, s in scores.items()} | {UTF8: round(utf8_score, 3)},
    )


def _preference(name: str, declared: str | None) -> int:
    if name == declared:
        return 0
    return 1 + (SINGLE_BYTE.index(name) if name in SINGLE_BYTE else len(SINGLE_BYTE))


def _utf8_score(sample: bytes) -> float:
    """Share of non-ASCII characters that decode as UTF-8. A few bad sequences are allowed:
    DBF writers cut multi-byte characters at the field width."""
    decoder = codecs.getincrementaldecoder(UTF8)("replace")
    text = decoder.decode(sample, final=False)
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) >= 0x80 and ch != "\ufffd")
    if good + bad == 0:
        return 0.0
    if bad and good < 10 * bad:
        return 0.0
    return good / (good + bad)


def _single_byte_score(sample: bytes, codec: str) -> float:
    try:
        text = sample.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return 0.0
    judge = {"cp874": _thai_weight, "cp1258": _vietnamese_weight, "cp1252": _western_weight}.get(
        codec, _generic_weight
    )
    total = 0.0
    counted = 0
    for i, ch in enumerate(text):
        if ord(ch) < 0x80 or _is_neutral(ch):
            continue
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        total += judge(ch, prev, nxt)
        counted += 1
    return total / counted if counted else 0.5


def _is_neutral(ch: str) -> bool:
    """Punctuation shared by the code pages (curly quotes, dashes, the euro sign, NBSP)."""
    return unicodedata.category(ch) in ("Pi", "Pf", "Pd", "Sc", "Zs") or ch in "…•™"


def _thai_weight(ch: str, prev: str, nxt: str) -> float:
    code = ord(ch)
    if code in _THAI_MARKS:
        return 1.0 if ord(prev) in _THAI_CONSONANT or ord(prev) in _THAI_MARKS else 0.0
    if code in _THAI_LEADING_VOWELS:
        return 1.0 if ord(nxt) in _THAI_CONSONANT else 0.2
    if 0x0E01 <= code <= 0x0E5B:
        return 1.0 if _is_thai(prev) or _is_thai(nxt) else 0.3
    return 0.0


def _is_thai(ch: str) -> bool:
    return 0x0E01 <= ord(ch) <= 0x0E5B


def _vietnamese_weight(ch: str, prev: str, nxt: str) -> float:
    if ord(ch) in _VIETNAMESE_TONES:
        return 1.0 if prev in _VOWELS else 0.0
    if ch in _VIETNAMESE_LETTERS:
        return 1.0
    return 0.2 if ch.isalpha() else 0.1


def _western_weight(ch: str, prev: str, nxt: str) -> float:
    if not ch.isalpha():
        # ¡ ¿ ° © and friends: fine on their own, suspicious glued to accented letters.
        return 0.1 if _accented(prev) or _accented(nxt) else 0.8
    if _accented(prev) and _accented(nxt):
        return 0.1  # three accented letters in a row: not a Western language
    if _accented(prev) and ch in "ìòÌÒ":
        return 0.1  # "êò": a Vietnamese tone mark read as a grave vowel
    return 0.6 if ch in _RARE_WESTERN else 1.0


def _generic_weight(ch: str, prev: str, nxt: str) -> float:
    return 0.7 if ch.isalpha() else 0.3


def _accented(ch: str) -> bool:
    return ord(ch) >= 0x80 and (ch.isalpha() or unicodedata.category(ch).startswith("S"))


def _examples(sample: bytes, codec: str) -> tuple[str, ...]:
    found: list[str] = []
    for piece in _SPLIT.split(sample):
        if not any(b >= 0x80 for b in piece):
            continue
        text = piece.decode(codec, "replace").strip()
        if len(text) > 60:
            text = text[:57] + "..."
        if text and text not in found:
            found.append(text)
        if len(found) >= MAX_EXAMPLES:
            break
    return tuple(found)
