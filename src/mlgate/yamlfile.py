"""Strict YAML reading for config and metrics files: duplicate keys are errors, positions are kept.

`load_yaml` returns the data and, for every mapping key and sequence item, the 1-based line it was written
on, so an error can say `.mlgate.yml:7: gates[1].abs: …`. Every refusal is one line naming file, line and
column: PyYAML's errors, a tagged value its constructor cannot build (`!!float abc`), and aliases that repeat
more than MAX_ALIAS_NODES nodes or name the node they are in. Inside `keeping(directory)` (cli.py sets it for
each local command) a document parsed before comes from yamlcache.py instead of PyYAML.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import surrogates
from mlgate.errors import MlgateError

if TYPE_CHECKING:
    import yaml

Path_ = tuple[str | int, ...]

# NOTE: an alias repeats the whole node it names, so a few hundred bytes of nested `&a`/`*a` lists stand for
# millions of values (the "billion laughs"; PyYAML sets no limit, https://github.com/yaml/pyyaml/issues/235).
# Counted while composing, before anything is built. Real files repeat a block of params or a stage a few
# times; 100,000 repeated nodes are about what a 1 MiB file without aliases holds, well inside the 16 MiB
# limit on a file, and take under two seconds to read.
MAX_ALIAS_NODES = 100_000
_CAUGHT = (ArithmeticError, AttributeError, LookupError, TypeError, ValueError)
_TAG_PREFIX = "tag:yaml.org,2002:"


class _Refusal(Exception):
    """A document this module refuses, at `mark` (a PyYAML Mark) for the reason `what`."""

    def __init__(self, mark: Any, what: str) -> None:
        super().__init__(what)
        self.mark = mark
        self.what = what


@cache
def _strict_loader() -> type[yaml.SafeLoader]:
    """SafeLoader without the YAML 1.1 surprises that matter here: `on`/`yes` stay strings. It counts the
    nodes aliases repeat while composing, and a value its constructors cannot build is a _Refusal at its node.

    Built on first use: PyYAML's import is a tenth of `mlgate diff`, which reads no YAML in a JSON project.
    """
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.expanded = 0  # the nodes composed so far, each alias counting the nodes it repeats
            self.repeated = 0
            self.sizes: dict[str, int] = {}  # anchor → the nodes its node expands to

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            before = self.expanded
            node = super().compose_node(parent, index)
            if isinstance(event, yaml.AliasEvent):
                self._repeat(event)
            else:
                self.expanded += 1
                if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                    self.sizes[event.anchor] = self.expanded - before
            return node

        def _repeat(self, alias: yaml.AliasEvent) -> None:
            size = self.sizes.get(alias.anchor or "")
            if size is None:
                raise _Refusal(alias.start_mark, f"alias *{alias.anchor} is inside the node it names")
            self.expanded += size
            self.repeated += size
            if self.repeated > MAX_ALIAS_NODES:
                raise _Refusal(
                    alias.start_mark,
                    f"aliases repeat more than {MAX_ALIAS_NODES:,} nodes (*{alias.anchor} here repeats "
                    f"{size:,}); write the values out or repeat less",
                )

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except _CAUGHT as exc:
                raise _Refusal(node.start_mark, _unbuildable(node, exc)) from None

    # NOTE: YAML 1.1 reads `on`, `off`, `yes`, `no` as booleans (GitHub's `on:` key is the famous victim);
    # keep only true/false, as YAML 1.2 does.
    StrictLoader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    return StrictLoader


_KEPT: ContextVar[Path | None] = ContextVar("mlgate_yaml_kept", default=None)


@contextlib.contextmanager
def keeping(directory: Path | None) -> Iterator[None]:
    """Within: a document parsed before is taken from the entries in `directory` (yamlcache.py), and a new
    one is kept there; None keeps nothing."""
    token = _KEPT.set(directory)
    try:
        yield
    finally:
        _KEPT.reset(token)


def load_yaml(
    text: str, source: str, error: Callable[[str, str], MlgateError]
) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document. `error(where, what)` builds the exception raised on bad input."""
    directory = _KEPT.get()
    if directory is None:
        return _parse(text, source, error)
    from mlgate import yamlcache

    kept = yamlcache.load(directory, text)
    if kept is not None:
        return kept
    data, lines = _parse(text, source, error)  # raises on any bad document, so only a good one is kept
    yamlcache.save(directory, text, data, lines)
    return data, lines


def load_value(text: str) -> Any:
    """A value written as YAML (an `MLGATE_*` override: `0.01`, `[a, b]`, `{x: 1}`), or the text itself when
    it is no YAML mlgate reads. Read strictly, as a file is, and never kept (it may be a secret)."""
    from mlgate.errors import UsageError

    if not text.strip():
        return text
    try:
        return _parse(text, "value", UsageError)[0]
    except UsageError:
        return text


def dump_yaml(data: Any) -> str:
    """`data` as block-style YAML, keys in their order, non-ASCII as written (`mlgate config`)."""
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _parse(text: str, source: str, error: Callable[[str, str], MlgateError]) -> tuple[Any, dict[Path_, int]]:
    import yaml

    try:
        data, lines = _compose_and_build(text, source, error)
    except _Refusal as exc:
        raise error(_at(source, exc.mark), exc.what) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _at(source, mark) if mark else source
        raise error(where, f"invalid YAML: {_marked(exc)}") from None
    except yaml.YAMLError as exc:  # ReaderError, the one without a mark: a character YAML does not allow
        position = getattr(exc, "position", None)
        where = _at_offset(source, text, position) if isinstance(position, int) else source
        first = str(exc).partition("\n")[0]  # the second line is PyYAML's `in "<unicode string>", position 6`
        raise error(where, f"invalid YAML: {_one_line(first)}") from None
    except RecursionError:
        raise error(source, "invalid YAML: nested too deeply") from None
    if surrogates.may_hold(text):
        return surrogates.mend(data, lines, source, error, too_deep="invalid YAML: nested too deeply")
    return data, lines


def _compose_and_build(
    text: str, source: str, error: Callable[[str, str], MlgateError]
) -> tuple[Any, dict[Path_, int]]:
    """What `yaml.load` does, with the keys checked between composing and building."""
    loader = _strict_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Path_, int] = {}
        _check_keys(node, (), lines, source, error)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _unbuildable(node: yaml.Node, exc: Exception) -> str:
    """What a tagged value PyYAML could not build was: `'abc' is not a !!float`."""
    tag = str(node.tag).replace(_TAG_PREFIX, "!!")
    text = node.value if isinstance(node.value, str) else ""  # a tagged collection PyYAML refuses itself
    shown = text if len(text) <= 40 else text[:40] + "…"
    reason = _one_line(str(exc)).split(";")[0]
    detail = f": {reason}" if isinstance(exc, ValueError) and text[:40] not in reason else ""
    return f"invalid YAML: {shown!r} is not a {tag}{detail}"


def _marked(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem, after its context where the problem alone says too little: `found duplicate anchor
    'a'; first occurrence on line 1; second occurrence`. A `while parsing …` context adds nothing."""
    problem, context = _one_line(exc.problem or ""), _one_line(exc.context or "")
    if not context or context.startswith("while "):
        return problem or context
    line = f" on line {exc.context_mark.line + 1}" if exc.context_mark else ""
    return f"{context}{line}; {problem}" if problem else context


def _at(source: str, mark: Any) -> str:
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


def _at_offset(source: str, text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"{source}:{line}:{column}"


def _one_line(text: str) -> str:
    """PyYAML's text on one line, its long tag prefix shortened as YAML writes it: `!!float`."""
    return " ".join(text.split()).replace(_TAG_PREFIX, "!!")


def _check_keys(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    source: str,
    error: Callable[[str, str], MlgateError],
) -> None:
    import yaml

    stack: list[tuple[yaml.Node, Path_]] = [(node, path)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in current.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise error(f"{source}:{line}", f"duplicate key {format_path((*at, key))!r}")
                seen.add(key)
                lines[(*at, key)] = line
                stack.append((value_node, (*at, key)))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                lines[(*at, index)] = item.start_mark.line + 1
                stack.append((item, (*at, index)))


def format_path(path: Path_) -> str:
    """`("gates", 1, "abs")` → `gates[1].abs`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
