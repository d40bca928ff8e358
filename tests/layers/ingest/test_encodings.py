"""Text encoding detection for DBF values and CSV text."""

import pytest

from layers.ingest.safety import detect_text_encoding, normalise_encoding

THAI = "กรุงเทพมหานคร\nเหมืองแร่ดีบุก\nจังหวัดกาญจนบุรี"
WESTERN = "Mina São João\nZürich Straße\nPeñasco\nMontréal"


def test_plain_ascii_keeps_the_declared_encoding() -> None:
    guess = detect_text_encoding(b"Loei\nKanchanaburi", "1252")

    assert guess.is_ascii and guess.encoding == "cp1252" and not guess.conflicts_with_declared


def test_utf8_with_a_bom() -> None:
    guess = detect_text_encoding(b"\xef\xbb\xbf" + THAI.encode(), None)

    assert guess.encoding == "utf-8" and guess.has_bom and guess.confidence == 1.0


def test_utf8_cut_at_a_field_width_is_still_utf8() -> None:
    sample = "\n".join([THAI] * 5).encode() + b"\n" + "เหมือง".encode()[:-1]

    assert detect_text_encoding(sample, "UTF-8").encoding == "utf-8"


def test_thai_bytes_declared_as_utf8_conflict() -> None:
    guess = detect_text_encoding(THAI.encode("cp874"), "UTF-8")

    assert (guess.encoding, guess.conflicts_with_declared) == ("cp874", True)
    assert guess.examples[0] == "กรุงเทพมหานคร"


def test_a_declared_code_page_that_fits_is_kept() -> None:
    guess = detect_text_encoding(WESTERN.encode("cp1252"), "ANSI 1252")

    assert guess.encoding == "cp1252" and not guess.conflicts_with_declared


def test_utf8_declared_as_a_code_page_conflicts() -> None:
    guess = detect_text_encoding(WESTERN.encode(), "1252")

    assert guess.encoding == "utf-8" and guess.conflicts_with_declared


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        ("65001", "utf-8"),
        ("874", "cp874"),
        ("TIS-620", "cp874"),
        ("1258", "cp1258"),
        ("ANSI 1252", "cp1252"),
        ("88591", "latin-1"),
        ("no such thing", None),
        ("", None),
    ],
)
def test_declared_names_are_normalised(label: str, codec: str | None) -> None:
    assert normalise_encoding(label) == codec
