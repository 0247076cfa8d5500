"""The report's Jinja templates: where the built-in ones live, the sandboxed environment, and template errors.

Templates render in a `SandboxedEnvironment` with `StrictUndefined`; a user's template (`report.template`)
that fails to load or render is a ConfigError naming its file and line, never a traceback. jinja2 is
imported inside functions: `mlgate diff` must stay fast.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import ConfigError
from mlgate.markdown import code_span
from mlgate.model import format_number

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

MARKDOWN_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html.j2"
_TEMPLATE_HINT = "fix the template named by report.template in .mlgate.yml, or remove the key"


def templates_dir() -> Path:
    """The built-in templates: `mlgate/templates` (in a checkout, a link to the top-level `templates/`)."""
    return Path(__file__).parent / "templates"


@functools.lru_cache(maxsize=8)
def _environment(search: tuple[str, ...], autoescape: bool) -> SandboxedEnvironment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(list(search)),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["code"] = code_span
    env.filters["cell"] = functools.partial(code_span, table=True)
    env.filters["num"] = format_number
    return env


def load_template(search: tuple[str, ...], name: str, *, autoescape: bool, origin: Path | None) -> Template:
    """Template `name` from the `search` folders; a user's template (`origin`) that fails names its line."""
    import jinja2

    if origin is not None and not origin.is_file():
        raise ConfigError("report.template", f"{origin}: no such template file", hint=_TEMPLATE_HINT)
    try:
        return _environment(search, autoescape).get_template(name)
    except jinja2.TemplateError as exc:
        if origin is None:
            raise
        raise _template_error(exc, origin) from None


def render_template(compiled: Template, context: Mapping[str, Any], origin: Path | None) -> str:
    """The rendered text; an error raised while a user's template (`origin`) runs is a ConfigError."""
    import jinja2

    try:
        return compiled.render(context)
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        if origin is None:
            raise
        raise _template_error(exc, origin) from None


def _template_error(exc: BaseException, origin: Path) -> ConfigError:
    """The template file and line of a Jinja error, from the error or from Jinja's rewritten traceback."""
    import traceback

    filename = getattr(exc, "filename", None) or str(origin)
    line = getattr(exc, "lineno", None)
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        if frames:
            filename, line = frames[-1].filename, frames[-1].lineno
    message = str(getattr(exc, "message", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
    where = f"{filename}:{line}" if line else filename
    return ConfigError(where, f"template error: {message}", hint=_TEMPLATE_HINT)
