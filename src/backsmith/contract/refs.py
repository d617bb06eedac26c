"""Bundle external `$ref`s into one document, resolved relative to the referring file.

Schemas reached through another file are hoisted into `components/schemas` under their
own name (so resource names survive and recursive schemas stay finite); everything else
(parameters, responses, path items) is inlined where it is referenced.
"""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from backsmith.contract.identifiers import (
    IDENTIFYING_KEYS,
    SCHEMA_LIST_KEYS,
    SCHEMA_MAP_KEYS,
    SCHEMA_VALUE_KEYS,
    Identifiers,
    index_identifiers,
)
from backsmith.contract.source import Located, escape, parse_text, unescape
from backsmith.errors import ContractError, Issue


def resolve_pointer(data: Any, fragment: str) -> Any:
    """The value at JSON pointer `fragment` (without '#'), or KeyError."""
    if fragment and not fragment.startswith("/"):
        raise KeyError(fragment)  # a name (`#book`), not a pointer: see contract.identifiers
    node = data
    tokens = unquote(fragment).split("/")[1:] if fragment else []
    for token in map(unescape, tokens):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(fragment)
    return node


class _Bundler:
    def __init__(self, main: Located, main_path: Path) -> None:
        self.main_path = main_path.resolve()
        self.files: dict[Path, Located] = {self.main_path: main}
        self.positions: dict[str, tuple[str, int | None]] = {}
        self.hoisted: dict[tuple[Path, str], str] = {}
        self.new_schemas: dict[str, Any] = {}
        self.inlining: list[tuple[Path, str]] = []
        self.issues: list[Issue] = []
        # `$id` and `$anchor` are JSON Schema 2020-12 keywords: OpenAPI 3.1 and 3.2 only.
        self.identifying = str(main.data.get("openapi", "")).startswith(("3.1", "3.2"))
        self.identifiers: dict[Path, Identifiers] = {}
        self.sorted_pointers: dict[Path, list[str]] = {}
        existing = main.data.get("components", {})
        schemas = existing.get("schemas", {}) if isinstance(existing, dict) else {}
        self.taken = set(schemas) if isinstance(schemas, dict) else set()
        definitions = main.data.get("definitions")  # Swagger 2.0's, converted once bundled
        self.taken |= set(definitions) if isinstance(definitions, dict) else set()

    def run(self) -> dict[str, Any]:
        main = self.files[self.main_path]
        document: dict[str, Any] = self.walk(main.data, self.main_path, "", "", False)
        if self.new_schemas:
            components = document.setdefault("components", {})
            components.setdefault("schemas", {}).update(self.new_schemas)
        if self.issues:
            raise ContractError(self.issues)
        return document

    def _file(self, path: Path, ref_file: Path, ref_pointer: str) -> Located | None:
        if path not in self.files:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                where = self.files[ref_file]
                self.issues.append(
                    Issue(
                        f"$ref target file not found: {path}",
                        where.file,
                        where.line_of(ref_pointer),
                        ref_pointer,
                    )
                )
                return None
            self.files[path] = parse_text(text, str(path))
        return self.files[path]

    def walk(self, node: Any, file: Path, src: str, out: str, in_schema: bool) -> Any:
        """Copy `node` (at `src` in `file`) to bundled pointer `out`, resolving refs."""
        self.positions[out] = (self.files[file].file, self.files[file].lines.get(src))
        if isinstance(node, list):
            return [
                self.walk(item, file, f"{src}/{i}", f"{out}/{i}", in_schema)
                for i, item in enumerate(node)
            ]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        identifiers = self._identifiers(file)
        if isinstance(ref, str) and identifiers is not None:
            named = identifiers.resolve(ref, src, lambda p: self._exists(file, p))
            if named is not None:  # by `$id` or `$anchor`: a plain pointer from here on
                ref = f"#{named}"
                node = {**node, "$ref": ref}
        if isinstance(ref, str) and (not ref.startswith("#") or file != self.main_path):
            return self.external(node, ref, file, src, out, in_schema)
        if isinstance(ref, str):
            try:
                resolve_pointer(self.files[file].data, ref[1:])
            except KeyError:
                self.issues.append(
                    Issue(
                        f"unresolvable $ref {ref!r}",
                        self.files[file].file,
                        self.files[file].line_of(src),
                        src,
                    )
                )
        result: dict[str, Any] = {}
        identified = identifiers is not None and src in identifiers.identified
        for key, value in node.items():
            if identified and key in IDENTIFYING_KEYS:
                continue  # every reference to it is a JSON pointer now
            if key.startswith("x-"):  # vendor extensions are not OpenAPI: their refs are data
                result[key] = value
                self._keep_positions(file, f"{src}/{escape(key)}", f"{out}/{escape(key)}")
                continue
            token = escape(key)
            child_src, child_out = f"{src}/{token}", f"{out}/{token}"
            if key in SCHEMA_MAP_KEYS or (key == "schemas" and out == "/components"):
                self.positions[child_out] = (
                    self.files[file].file,
                    self.files[file].lines.get(child_src),
                )
                result[key] = (
                    {
                        k: self.walk(
                            v, file, f"{child_src}/{escape(k)}", f"{child_out}/{escape(k)}", True
                        )
                        for k, v in value.items()
                    }
                    if isinstance(value, dict)
                    else value
                )
            else:
                schema_child = key in SCHEMA_VALUE_KEYS or key in SCHEMA_LIST_KEYS
                result[key] = self.walk(
                    value, file, child_src, child_out, in_schema or schema_child
                )
        return result

    def _identifiers(self, file: Path) -> Identifiers | None:
        """The `$id`s and `$anchor`s of one file, indexed on first use (3.1 only)."""
        if not self.identifying:
            return None
        if file not in self.identifiers:
            self.identifiers[file] = index_identifiers(self.files[file].data, file.as_uri())
        return self.identifiers[file]

    def _exists(self, file: Path, pointer: str) -> bool:
        try:
            resolve_pointer(self.files[file].data, pointer)
        except KeyError:
            return False
        return True

    def _keep_positions(self, file: Path, src: str, out: str) -> None:
        located = self.files[file]
        if src in located.lines:
            self.positions[out] = (located.file, located.lines[src])
        # The pointers under `src` sit together in sorted order: find them, not scan them all.
        if file not in self.sorted_pointers:
            self.sorted_pointers[file] = sorted(located.lines)
        pointers = self.sorted_pointers[file]
        prefix = src + "/"
        for pointer in pointers[bisect_left(pointers, prefix) :]:
            if not pointer.startswith(prefix):
                break
            self.positions[out + pointer[len(src) :]] = (located.file, located.lines[pointer])

    def external(
        self, node: dict[str, Any], ref: str, file: Path, src: str, out: str, in_schema: bool
    ) -> Any:
        file_part, _, fragment = ref.partition("#")
        target_path = (file.parent / file_part).resolve() if file_part else file
        if file_part.startswith(("http://", "https://")):
            where = self.files[file]
            self.issues.append(
                Issue(
                    f"remote $ref {ref!r} is not fetched; use a local file",
                    where.file,
                    where.line_of(src),
                    src,
                )
            )
            return node
        target_file = self._file(target_path, file, src)
        if target_file is None:
            return node
        try:
            target = resolve_pointer(target_file.data, fragment)
        except KeyError:
            self.issues.append(
                Issue(
                    f"unresolvable $ref {ref!r}",
                    self.files[file].file,
                    self.files[file].line_of(src),
                    src,
                )
            )
            return node
        if target_path == self.main_path:
            return {**node, "$ref": f"#{fragment}"}
        key = (target_path, fragment)
        if in_schema or "/schemas/" in f"{fragment}/" or not fragment:
            if key not in self.hoisted:
                name = self._name_for(target_path, fragment)
                self.hoisted[key] = name
                self.new_schemas[name] = self.walk(
                    target, target_path, fragment, f"/components/schemas/{escape(name)}", True
                )
            return {**node, "$ref": f"#/components/schemas/{escape(self.hoisted[key])}"}
        if key in self.inlining:
            where = self.files[file]
            self.issues.append(Issue(f"circular $ref {ref!r}", where.file, where.line_of(src), src))
            return node
        self.inlining.append(key)
        try:
            return self.walk(target, target_path, fragment, out, in_schema)
        finally:
            self.inlining.pop()

    def _name_for(self, path: Path, fragment: str) -> str:
        base = unescape(fragment.rsplit("/", 1)[-1]) if fragment.strip("/") else path.stem
        name, counter = base, 2
        while name in self.taken:
            name, counter = f"{base}{counter}", counter + 1
        self.taken.add(name)
        return name


def bundle(
    main: Located, main_path: Path
) -> tuple[dict[str, Any], dict[str, tuple[str, int | None]]]:
    """The main document with external refs bundled in, and pointer -> (file, line)."""
    bundler = _Bundler(main, main_path)
    return bundler.run(), bundler.positions
