#!/usr/bin/env python3
"""The README's module map is true: checked against the code.

- Every module's `→` list in the README's "Architecture" block is exactly the project modules
  its sources import, and exactly the project modules Package.swift gives it.
- Every arrow points down: a module only depends on modules listed below it.
- The migrations the README and docs/ledger.md name ("v1 … vN") are the ledger's.

Prints one line per difference and exits 1, or one line saying what holds.
usage: .ci/architecture-check.py [REPO]
"""
import pathlib
import re
import sys

repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
sources = repo / "Sources"
# CZlib is a system-library shim (a module map over zlib.h), not a module with sources of its own.
modules = sorted(p.name for p in sources.iterdir() if p.is_dir() and p.name != "CZlib")
problems = []

# The README's map: a line starting at column 0 names a module; "→ A B" (on its line or on a
# following indented line, going on over indented lines of module names) lists what it depends
# on; no arrow: nothing of the project.
readme = (repo / "README.md").read_text()
block = re.search(r"## Architecture\n.*?```\n(.*?)```", readme, re.S)
if not block:
    sys.exit("architecture-check: README.md has no code block under '## Architecture'")
order, declared, current, arrow = [], {}, None, False
for line in block.group(1).splitlines():
    head = re.match(r"^([A-Z][A-Za-z]+)\s", line)
    if head and head.group(1) in modules:
        current, arrow = head.group(1), False
        order.append(current)
        declared[current] = set()
    if current and "→" in line:
        declared[current] |= set(line.split("→", 1)[1].split())
        arrow = True
    elif current and arrow and line.startswith(" ") and line.split() and all(w in modules for w in line.split()):
        declared[current] |= set(line.split())  # the arrow's list goes on
    elif not head:
        arrow = False
for module in modules:
    if module not in declared:
        problems.append(f"README.md's map does not list the module {module}")

# What each module's sources import.
imported = {}
for module in modules:
    names = set()
    for path in (sources / module).rglob("*.swift"):
        for match in re.finditer(r"^(?:@testable\s+|@_implementationOnly\s+|public\s+|internal\s+)?import\s+(?:struct\s+|enum\s+|class\s+|func\s+)?([A-Za-z_]+)",
                                 path.read_text(), re.M):
            if match.group(1) in modules and match.group(1) != module:
                names.add(match.group(1))
    imported[module] = names

# What Package.swift gives each target (its project dependencies, by name).
package = (repo / "Package.swift").read_text()
given = {}
chunks = re.split(r"\.(?=(?:executableTarget|target|testTarget|systemLibrary)\()", package)
for chunk in chunks:
    target = re.match(r"(executableTarget|target)\(\s*name:\s*\"([A-Za-z]+)\"", chunk)
    if not target:
        continue
    deps = re.search(r"dependencies:\s*\[(.*?)\]", chunk, re.S)
    given[target.group(2)] = {d for d in re.findall(r"\"([A-Za-z]+)\"", deps.group(1) if deps else "") if d in modules}

for module in modules:
    said = declared.get(module, set())
    if said != imported[module]:
        missing, extra = sorted(imported[module] - said), sorted(said - imported[module])
        if missing:
            problems.append(f"{module} imports {', '.join(missing)}, which README.md's map does not show")
        if extra:
            problems.append(f"README.md's map shows {module} → {', '.join(extra)}, which it does not import")
    if module in given and given[module] != imported[module]:
        missing, extra = sorted(imported[module] - given[module]), sorted(given[module] - imported[module])
        if missing:
            problems.append(f"{module} imports {', '.join(missing)} without Package.swift's dependency")
        if extra:
            problems.append(f"Package.swift gives {module} {', '.join(extra)}, which it does not import")
    for dependency in imported[module]:
        if module in order and dependency in order and order.index(dependency) <= order.index(module):
            problems.append(f"{module} → {dependency} points up: README.md lists {dependency} above {module}")

# The migrations: LedgerSchema's list against the README's and docs/ledger.md's "v1 … vN".
schema = (repo / "Sources/Ledger/LedgerSchema.swift").read_text()
listed = re.search(r"static let migrations: \[\(id: String, sql: \[String\]\)\] = \[(.*?)\]\n", schema)
ids = re.findall(r"\(\"(v\d+)\"", listed.group(1)) if listed else []
latest = ids[-1] if ids else None
for doc in ["README.md", "docs/ledger.md"]:
    for said in re.findall(r"v1 … (v\d+)", (repo / doc).read_text()):
        if said != latest:
            problems.append(f"{doc} says migrations v1 … {said}; the ledger has v1 … {latest}")

if problems:
    print("\n".join(problems))
    sys.exit(1)
edges = sum(len(v) for v in imported.values())
print(f"the map holds: {len(modules)} modules, {edges} arrows, every one pointing down, as imported and as Package.swift declares; migrations v1 … {latest}")
