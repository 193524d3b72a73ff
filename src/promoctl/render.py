"""Documents from Jinja templates: shipped in the package, overridable per repository.

Templates in a promotion repository are not trusted: they run sandboxed (no Python
internals), with StrictUndefined (a typo is an error naming the template line, not a
blank), with HTML autoescaped (a candidate named <script> prints as text), and under a
time limit, since the sandbox does not bound CPU.
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from promoctl.errors import UserError

FORMATS = {"markdown": "md", "html": "html"}
TIME_LIMIT_SECONDS = 10


class TemplateError(UserError):
    pass


def _environment(root: Path | None) -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loaders: list[jinja2.BaseLoader] = []
    if root is not None and (root / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(root / "templates"))
    loaders.append(jinja2.PackageLoader("promoctl", "templates"))
    return ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",),
                                            default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(root: Path | None, name: str, fmt: str, context: Mapping[str, Any]) -> str:
    """Render ``name`` (letter, plan, panel) as ``fmt`` (markdown, html)."""
    import jinja2
    from jinja2.exceptions import SecurityError

    template_name = f"{name}.{FORMATS[fmt]}"
    env = _environment(root)
    try:
        with _time_limit(TIME_LIMIT_SECONDS):
            template = env.get_template(template_name)
            return str(template.render(**context))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{_where(exc.filename or template_name, exc.lineno)}: "
                            f"template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: undefined in the "
                            f"template: {exc.message}") from None
    except SecurityError as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: the template tried "
                            f"something templates may not do: {exc}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: template error: "
                            f"{exc}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: the template failed: "
                            f"{exc}") from None


def _where(filename: str, line: int | None) -> str:
    return f"{filename}:{line or 0}"


def _template_location(exc: BaseException, fallback: str) -> str:
    """The innermost template frame of the traceback (jinja rewrites frames to templates)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename
        if "templates" in Path(name).parts or name.startswith("<template>"):
            return _where(name, frame.lineno)
    return _where(fallback, 0)


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    # SIGALRM only works in the main thread of a POSIX process; elsewhere run unbounded.
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not \
            threading.main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise TemplateError(f"rendering took longer than {seconds} s; a template loop is "
                            "too large")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def html_to_pdf(html: str) -> bytes:
    """PDF through WeasyPrint (the optional extra), fetching nothing from the network."""
    try:
        import weasyprint  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except (ImportError, OSError):
        raise UserError("PDF output needs WeasyPrint: pip install 'promoctl[pdf]' (it also "
                        "needs the Pango libraries installed on the system)") from None

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, Any]:
        raise ValueError(f"promoctl documents load no external resources ({url})")

    pdf = weasyprint.HTML(string=html, url_fetcher=no_fetch).write_pdf()
    return bytes(pdf)
