#!/usr/bin/env python3
"""docs/options.md, generated from the binary's own help (swift-argument-parser's
`--experimental-dump-help`), so the option reference cannot drift from `--help`.

usage: .ci/options-doc.py BINARY            write docs/options.md
       .ci/options-doc.py BINARY --check    exit 1, saying where, if docs/options.md differs
"""
import difflib
import json
import pathlib
import subprocess
import sys

if len(sys.argv) < 2:
    sys.exit(__doc__)
binary, check = sys.argv[1], "--check" in sys.argv[2:]
target = pathlib.Path(__file__).resolve().parent.parent / "docs" / "options.md"
dump = json.loads(subprocess.run([binary, "--experimental-dump-help"], check=True, capture_output=True, text=True).stdout)


def cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def spelling(argument):
    """How the operator writes it: `--name VALUE`, `-n`, `--flag`, or `<files> …`."""
    if argument["kind"] == "positional":
        return f"`<{argument['valueName']}>`" + (" …" if argument.get("isRepeating") else "")
    names = []
    for name in argument.get("names", []):
        names.append(("--" if name["kind"] == "long" else "-") + name["name"])
    text = ", ".join(f"`{n}`" for n in names)
    if argument["kind"] == "option":
        text = text[:-1] + f" <{argument.get('valueName', 'value')}>`"
    return text


lines = [
    "# Command-line options",
    "",
    "Generated from `cashier-batch --experimental-dump-help` by `.ci/options-doc.py`; CI fails when",
    "this file and the binary's `--help` disagree. Regenerate it with",
    "`python3 .ci/options-doc.py .build/debug/cashier-batch` after changing an option.",
    "Environment variables `CASHIER_BATCH_<OPTION>` and job files (`--job`) take the same names as the",
    "long options; the README says how they combine.",
    "",
]
for command in dump["command"]["subcommands"]:
    if not command.get("shouldDisplay", True) or command["commandName"] == "help":
        continue
    lines += [f"## `cashier-batch {command['commandName']}`", "", cell(command.get("abstract")), ""]
    if command.get("discussion"):
        lines += [cell(command["discussion"]), ""]
    arguments = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)
                 and a.get("preferredName", {}).get("name") not in ("help", "version")]
    if not arguments:
        continue
    lines += ["| argument | default | |", "|---|---|---|"]
    for argument in arguments:
        default = argument.get("defaultValue")
        if argument["kind"] == "flag":
            default = "off"
        lines.append(f"| {spelling(argument)} | {cell(default) if default is not None else ''} | {cell(argument.get('abstract'))} |")
    lines.append("")
text = "\n".join(lines).rstrip("\n") + "\n"

if check:
    current = target.read_text() if target.exists() else ""
    if current != text:
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "docs/options.md", "--help", lineterm="", n=0)
        print("\n".join(list(diff)[:40]))
        sys.exit("docs/options.md differs from the binary's --help (diff above): run python3 .ci/options-doc.py BINARY")
    print(f"docs/options.md matches --help ({text.count(chr(10))} lines)")
else:
    target.write_text(text)
    print(f"wrote {target} ({text.count(chr(10))} lines)")
