r"""YAML read with its line numbers: every error names the file, the line and the field
(``agreement.yaml:14: clauses[1].rule.within_km: expected a number, got str``).

>>> import yaml
>>> text = "a:\n  b: 1\n  c: [x, y]\n"
>>> lines = lines_of(yaml.compose(text, Loader=YamlLoader))
>>> lines["a.b"], lines["a.c[1]"]
(2, 3)
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import AgreementError

__all__ = ["YamlLoader", "YamlReader", "kind_name", "lines_of"]


class YamlLoader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: times stay strings and are parsed as RFC 3339."""


YamlLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


def lines_of(node: yaml.Node, path: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """Map each field path (``clauses[1].rule.within_km``) to its 1-based line in the YAML."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = f"{path}.{key.value}" if path else str(key.value)
            out[sub] = key.start_mark.line + 1
            lines_of(value, sub, out)
            out[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines_of(item, f"{path}[{i}]", out)
    return out


class YamlReader:
    """Field access into the parsed YAML that raises errors with file, line and field."""

    def __init__(self, file: str, lines: dict[str, int]) -> None:
        self.file = file
        self.lines = lines

    def error(self, path: str, message: str) -> AgreementError:
        probe = path
        while probe and probe not in self.lines:
            probe = probe.rsplit(".", 1)[0] if "." in probe else ""
        return AgreementError(self.file, self.lines.get(probe, 1), path or None, message)

    def get(
        self,
        obj: dict[str, Any],
        path: str,
        key: str,
        kind: type | tuple[type, ...],
        required: bool = True,
    ) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in obj or obj[key] is None:
            if required:
                raise self.error(full, "required field is missing")
            return None
        value = obj[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(full, f"expected {kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.error(full, f"expected {kind_name(kind)}, got {type(value).__name__}")
        return value


def kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
