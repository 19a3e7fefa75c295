"""YAML from people and uploads, loaded with a nesting limit.

``yaml.safe_load`` builds nested collections recursively: a few kilobytes of ``[[[[…``
or of ever deeper indentation exceed Python's recursion limit and raise ``RecursionError``,
which is no ``YAMLError`` and used to end as a traceback (a 500 on the web). Mappings,
survey definitions and trigger files are a few levels deep, so :func:`load` first counts
the nesting on the token stream (PyYAML's scanner does not recurse) and refuses a
document deeper than :data:`MAX_DEPTH` with a :class:`YamlTooDeep` that names the line.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 40

_OPEN = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
         yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


class YamlTooDeep(yaml.YAMLError):
    """A document nested deeper than :data:`MAX_DEPTH`; ``line`` is 1-based.

    A ``YAMLError``, so callers that already turn a syntax error into a message with its
    line do the same for this one (``problem`` and ``problem_mark`` as PyYAML's own).
    """

    def __init__(self, line: int | None, mark: Any) -> None:
        self.line = line
        where = f" (line {line})" if line else ""
        self.problem = (f"the YAML nests more than {MAX_DEPTH} levels deep{where}; "
                        "a mapping or survey needs only a few")
        self.problem_mark = mark
        super().__init__(self.problem)


def check_depth(text: str) -> None:
    """Raise :class:`YamlTooDeep` when ``text`` nests deeper than :data:`MAX_DEPTH`
    (syntax errors are left to the parser, which reports them with their line)."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlTooDeep(token.start_mark.line + 1, token.start_mark)
            elif isinstance(token, _CLOSE):
                depth -= 1
    except YamlTooDeep:
        raise
    except yaml.YAMLError:
        return


def load(text: str) -> Any:
    """``yaml.safe_load(text)`` after :func:`check_depth`; raises ``yaml.YAMLError``."""
    check_depth(text)
    try:
        return yaml.safe_load(text)
    except RecursionError:  # a shape the token count does not see (aliases): still refused
        raise YamlTooDeep(None, None) from None


def compose(text: str) -> yaml.Node | None:
    """``yaml.compose(text)`` with the same limit (used to find the line of a key)."""
    check_depth(text)
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise YamlTooDeep(None, None) from None
