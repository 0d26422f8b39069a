#!/usr/bin/env python3
"""Every link between the project's markdown pages resolves: README.md, docs/*.md and the READMEs
of Jobs/, SampleData/ and Benchmarks/. A relative link must name a file or directory that exists,
and a `#anchor` (in the page itself or in another .md) a heading of that page, slugged as GitHub
does (lower case; punctuation but `-` and `_` dropped; spaces as `-`; a repeated heading gets
`-1`, `-2`…), or an HTML `id`/`name`. Links in code (fenced blocks, `code spans`) are not links.
External links (http:, https:, mailto:) are not fetched.

Prints one line per broken link and exits 1, or one line saying how many links hold.
usage: .ci/links-check.py [REPO]
"""
import pathlib
import re
import sys
import unicodedata

repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
pages = [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]
pages += [p for p in (repo / "Jobs/README.md", repo / "SampleData/README.md", repo / "Benchmarks/README.md") if p.exists()]
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def prose(text):
    """The page's text with fenced code blocks blanked (line numbers kept)."""
    out, fence = [], None
    for line in text.split("\n"):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append("")
        elif m:
            fence = m.group(1)
            out.append("")
        else:
            out.append(line)
    return out


def slug(heading):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in " -" or cat[0] in "LMN" or cat == "Pc":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


anchors_cache = {}


def anchors(page):
    if page not in anchors_cache:
        found, seen = set(), {}
        text = page.read_text()
        for line in prose(text):
            m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                base = slug(m.group(1))
                n = seen.get(base, 0)
                found.add(base if n == 0 else f"{base}-{n}")
                seen[base] = n + 1
        found |= set(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", text))
        anchors_cache[page] = found
    return anchors_cache[page]


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
problems, count = [], 0
for page in pages:
    lines = prose(page.read_text())
    # Paragraphs (a link's text may wrap), each with its first line's number; code spans blanked.
    paragraphs, start = [], 0
    for i, line in enumerate(lines + [""]):
        if line.strip() == "":
            if i > start:
                paragraphs.append((start + 1, "\n".join(lines[start:i])))
            start = i + 1
    for first, para in paragraphs:
        para = re.sub(r"(`+)(?:(?!\1).)+?\1", lambda m: "CODE" + "\n" * m.group(0).count("\n"), para, flags=re.S)
        targets = [(m.start(), m.group(1)) for m in LINK.finditer(para)]
        targets += [(m.start(), m.group(1)) for m in REFDEF.finditer(para)]
        for offset, target in targets:
            count += 1
            where = f"{page.relative_to(repo)}:{first + para.count(chr(10), 0, offset)}"
            if re.match(r"^(https?|mailto):", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                problems.append(f"{where}: {target}: no such file {dest.relative_to(repo) if dest.is_relative_to(repo) else dest}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(f"{where}: {target}: {dest.relative_to(repo)} has no heading with the anchor #{anchor}")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"links hold: {count} links in {len(pages)} pages, every relative file and anchor found")
