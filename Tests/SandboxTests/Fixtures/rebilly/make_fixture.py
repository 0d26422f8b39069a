#!/usr/bin/env python3
"""Cuts openapi-cashiers.json from Rebilly/api-definitions.

Reads the four paths the sandbox serves (/cashiers, /cashiers/{id}, /deposit-requests,
/deposit-requests/{id}) from openapi/openapi.yaml of a checkout, or of a commit of a git
directory, follows every $ref across files, and writes one OpenAPI document whose $refs are all
local (#/components/...). Content is otherwise unchanged; servers become "/" and security the
secret key only. A file lands in components under its folder's name, except that
requestBodies/ and schemas/ProblemTypes/ hold schemas and land in schemas, as Rebilly's own
bundle places them.

    make_fixture.py --checkout DIR > openapi-cashiers.json
    make_fixture.py --git DIR --commit HASH > openapi-cashiers.json

Needs PyYAML.
"""
import argparse
import json
import posixpath
import subprocess
import sys

import yaml

PATHS = ["/cashiers", "/cashiers/{id}", "/deposit-requests", "/deposit-requests/{id}"]
SECTION_OF_FOLDER = {
    "schemas": "schemas",
    "requestBodies": "schemas",
    "responses": "responses",
    "parameters": "parameters",
    "headers": "headers",
}


class Loader(yaml.SafeLoader):
    """YAML without timestamps: a date-looking example stays text, as JSON needs."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Source:
    """Files of a checkout directory, or of one commit of a git directory."""

    def __init__(self, checkout=None, git=None, commit=None):
        self.checkout, self.git, self.commit = checkout, git, commit

    def read(self, path):
        if self.checkout is not None:
            with open(posixpath.join(self.checkout, path), encoding="utf-8") as f:
                return f.read()
        return subprocess.run(["git", "-C", self.git, "show", f"{self.commit}:{path}"],
                              check=True, capture_output=True, text=True).stdout

    def load(self, path):
        return yaml.load(self.read(path), Loader=Loader)


class Bundler:
    def __init__(self, source):
        self.source = source
        self.components = {}
        self.files_by_name = {}
        self.files = set()

    def component_ref(self, path):
        """The local reference for a component file, loading it on first use."""
        parts = path.split("/")
        if parts[:2] != ["openapi", "components"] or len(parts) < 4:
            raise SystemExit(f"unexpected $ref target {path}")
        section = SECTION_OF_FOLDER.get(parts[2])
        if section is None:
            raise SystemExit(f"no component section for {path}")
        name = posixpath.splitext(parts[-1])[0]
        key = (section, name)
        known = self.files_by_name.get(key)
        if known is not None and known != path:
            raise SystemExit(f"{section}/{name} names both {known} and {path}")
        if known is None:
            self.files_by_name[key] = path
            self.components.setdefault(section, {})[name] = None  # reserved against cycles
            self.components[section][name] = self.inline(path, self.source.load(path))
        return f"#/components/{section}/{name}"

    def inline(self, path, node):
        """`node` (read from `path`) with every file $ref made local."""
        self.files.add(path)
        if isinstance(node, list):
            return [self.inline(path, item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target, _, fragment = value.partition("#")
                if not target:
                    raise SystemExit(f"{path}: in-file $ref {value} is not supported")
                ref = self.component_ref(posixpath.normpath(posixpath.join(posixpath.dirname(path), target)))
                out[key] = ref + (fragment if fragment else "")
            else:
                out[key] = self.inline(path, value)
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", help="a checkout of Rebilly/api-definitions")
    parser.add_argument("--git", help="a git directory of Rebilly/api-definitions")
    parser.add_argument("--commit", help="the commit to read from --git")
    parser.add_argument("--files", action="store_true", help="list the files read on stderr")
    args = parser.parse_args()
    if bool(args.checkout) == bool(args.git) or (args.git and not args.commit):
        parser.error("give --checkout DIR, or --git DIR with --commit HASH")
    source = Source(checkout=args.checkout, git=args.git, commit=args.commit)

    root_path = "openapi/openapi.yaml"
    root = source.load(root_path)
    bundler = Bundler(source)
    bundler.files.add(root_path)
    paths = {}
    for name in PATHS:
        target = root["paths"][name]["$ref"]
        path = posixpath.normpath(posixpath.join("openapi", target))
        paths[name] = bundler.inline(path, source.load(path))

    schemes = root["components"]["securitySchemes"]
    components = {section: dict(sorted(items.items())) for section, items in sorted(bundler.components.items())}
    components["securitySchemes"] = {"SecretApiKey": schemes["SecretApiKey"]}
    info = {
        "title": root["info"]["title"] + ": cashiers and deposit requests",
        "version": root["info"]["version"],
        "license": root["info"]["license"],
    }
    document = {
        "openapi": root["openapi"],
        "info": info,
        "servers": [{"url": "/"}],
        "security": [{"SecretApiKey": []}],
        "paths": paths,
        "components": components,
    }
    json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    if args.files:
        for path in sorted(bundler.files):
            print(path, file=sys.stderr)


if __name__ == "__main__":
    main()
