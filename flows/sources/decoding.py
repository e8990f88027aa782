"""Decode text files whose encoding is declared, not known: UTF-8 first, then a fallback.

A file that is valid UTF-8 is taken as UTF-8 (bytes of a legacy 8-bit encoding above 0x7F are
almost never valid UTF-8 by accident). Any other file is decoded with the fallback; bytes the
fallback cannot decode either (Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined)
become U+FFFD and are reported by line, instead of failing the whole file.
"""

from __future__ import annotations


def decode(raw: bytes, *, fallback: str, name: str) -> tuple[str, str, list[str]]:
    """Return the text of ``raw``, the encoding used and notes on bytes it could not decode."""
    try:
        return raw.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        return _with_fallback(raw, fallback=fallback, name=name)


def _with_fallback(raw: bytes, *, fallback: str, name: str) -> tuple[str, str, list[str]]:
    parts: list[str] = []
    bad: list[int] = []
    position = 0
    while position < len(raw):
        try:
            parts.append(raw[position:].decode(fallback))
            break
        except UnicodeDecodeError as error:
            parts.append(raw[position : position + error.start].decode(fallback))
            bad.append(position + error.start)
            parts.append("\ufffd")
            position += error.end
    if not bad:
        return "".join(parts), fallback, []
    lines = sorted({raw.count(b"\n", 0, at) + 1 for at in bad})
    shown = ", ".join(str(n) for n in lines[:10]) + (" ..." if len(lines) > 10 else "")
    note = (
        f"{name}: {len(bad)} byte(s) undecodable as {fallback} on line(s) {shown}; replaced by "
        "U+FFFD (those rows are flagged)"
    )
    return "".join(parts), fallback, [note]
