"""Documents from Jinja templates: shipped in the package, overridable per repository.

Templates in a promotion repository are not trusted: they run sandboxed (no Python
internals), with StrictUndefined (a typo is an error naming the template line, not a
blank), with HTML autoescaped (a candidate named <script> prints as text), and under a
time limit, since the sandbox does not bound CPU.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from promoctl.base.errors import UserError, shown
from promoctl.base.escape import html_value, markdown_text
from promoctl.base.fsutil import Unreadable, read_regular

FORMATS = {"markdown": "md", "html": "html"}
TIME_LIMIT_SECONDS = 10
MAX_OUTPUT_CHARS = 16 * 1024 * 1024  # a letter is a few KB, the governance page a few MB
MAX_CALL_DEPTH = 100  # macros calling macros; a recursive macro stops here
MAX_TEMPLATE_BYTES = 1024 * 1024
_WIDE = re.compile(r"\d{8,}")  # a width or precision of 10 million or more in a format


class TemplateError(UserError):
    pass


class _Limit(Exception):
    """A template went past a bound; caught in ``render`` and given its location."""


def _environment(root: Path | None, fmt: str) -> Any:
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if root is not None and os.path.lexists(root / "templates"):
        loaders.append(_repository_loader(root))
    loaders.append(jinja2.PackageLoader("promoctl.reports", "templates"))
    env = _bounded_environment()(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",),
                                            default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Markdown is not autoescaped: values are escaped here instead (HTML's < and >);
        # control characters are shown escaped in both formats.
        finalize=markdown_text if fmt == "markdown" else html_value,
    )
    env.filters = {name: _bounded_filter(f) for name, f in env.filters.items()}
    return env


def _check_size(value: Any) -> Any:
    if isinstance(value, (str, bytes, list, tuple)) and len(value) > MAX_OUTPUT_CHARS:
        raise _Limit(f"a value of more than {MAX_OUTPUT_CHARS:,} characters")
    return value


def _check_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_OUTPUT_CHARS:
            raise _Limit(f"the number {arg} is too large for a template")
        if isinstance(arg, str) and _WIDE.search(arg) and ("%" in arg or "{" in arg):
            raise _Limit("a format with a width of millions of characters")


def _bounded_filter(function: Any) -> Any:
    """A filter that refuses sizes no document needs, before building the value."""
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)
        if function.__name__ == "do_replace" and len(args) >= 4:  # (env, s, old, new)
            text, new = str(args[1]), str(args[3])
            count = text.count(str(args[2])) if args[2] else len(text) + 1
            if len(text) + count * len(new) > MAX_OUTPUT_CHARS:
                raise _Limit(f"a value of more than {MAX_OUTPUT_CHARS:,} characters")
        return _check_size(function(*args, **kwargs))

    for attribute in ("jinja_pass_arg", "__name__", "__doc__"):
        if hasattr(function, attribute):
            setattr(bounded, attribute, getattr(function, attribute))
    return bounded


def _bounded_environment() -> Any:
    import operator

    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Bounded(ImmutableSandboxedEnvironment):
        """The sandbox, plus bounds on what one expression may build and how deep
        macros may call each other."""

        intercepted_binops = frozenset({"*", "**", "%", "+"})
        depth = 0

        def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
            if op == "**" and isinstance(right, int) and abs(right) > 64 \
                    and isinstance(left, (int, float)) and abs(left) > 1:
                raise _Limit(f"{left} ** {right} is too large for a template")
            if op == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) \
                            and len(seq) * times > MAX_OUTPUT_CHARS:
                        raise _Limit(f"a value of more than {MAX_OUTPUT_CHARS:,} characters")
            if op == "%" and isinstance(left, str):
                _check_args((left,), {})
            if op == "**":
                return operator.pow(left, right)
            return _check_size(super().call_binop(context, op, left, right))

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            _check_args(args, kwargs)
            __self.depth += 1
            try:
                if __self.depth > MAX_CALL_DEPTH:
                    raise _Limit(f"macros call each other more than {MAX_CALL_DEPTH} deep "
                                 "(does a macro call itself without end?)")
                return _check_size(super().call(__context, __obj, *args, **kwargs))
            finally:
                __self.depth -= 1

    return Bounded


def _repository_loader(root: Path) -> Any:
    """The repository's ``templates/`` folder: regular files inside it only, so a link
    to a file elsewhere (``letter.md -> /etc/passwd``) is refused, not rendered."""
    import jinja2

    class Loader(jinja2.BaseLoader):
        def get_source(self, environment: Any, template: str
                       ) -> tuple[str, str, Any]:
            from jinja2.loaders import split_template_path

            base = os.path.realpath(root)
            folder = os.path.join(base, "templates")
            real_folder = os.path.realpath(folder)
            if os.path.commonpath([base, real_folder]) != base:
                raise TemplateError("templates: a link to a folder outside the "
                                    "repository; templates are read only from inside it")
            path = os.path.join(folder, *split_template_path(template))
            if not os.path.lexists(path):
                raise jinja2.TemplateNotFound(template)
            if os.path.commonpath([real_folder, os.path.realpath(path)]) != real_folder:
                raise TemplateError(f"templates/{shown(template)}: leads out of the "
                                    "templates folder through a link; templates are read "
                                    "only from inside it")
            try:
                raw = read_regular(path, real_folder, MAX_TEMPLATE_BYTES)
                text = raw.decode("utf-8")
            except Unreadable as exc:
                raise TemplateError(f"templates/{shown(template)}: {exc}") from None
            except UnicodeDecodeError:
                raise TemplateError(f"templates/{shown(template)}: not UTF-8 "
                                    "text") from None
            return text, path, lambda: False  # never reused: each run loads afresh

    return Loader()


def render(root: Path | None, name: str, fmt: str, context: Mapping[str, Any]) -> str:
    """Render ``name`` (letter, plan, panel) as ``fmt`` (markdown, html)."""
    try:
        return _render(root, name, fmt, context)
    except TemplateError as exc:
        if root is None:
            raise
        # The repository's templates by their name in it, as problems name records.
        message = str(exc)
        for prefix in {os.path.realpath(root), str(root)}:
            message = message.replace(os.path.join(prefix, ""), "")
        raise TemplateError(message) from None


def _render(root: Path | None, name: str, fmt: str, context: Mapping[str, Any]) -> str:
    import jinja2
    from jinja2.exceptions import SecurityError

    template_name = f"{name}.{FORMATS[fmt]}"
    env = _environment(root, fmt)
    try:
        with _time_limit(TIME_LIMIT_SECONDS):
            template = env.get_template(template_name)
            parts, size = [], 0
            generator = template.generate(**context)
            for part in generator:
                size += len(part)
                if size > MAX_OUTPUT_CHARS:
                    raise TemplateError(f"{_suspended_at(generator, template_name)}: the "
                                        "template went past a limit: the document would be "
                                        f"more than {MAX_OUTPUT_CHARS:,} characters")
                parts.append(part)
            return "".join(parts)
    except _Limit as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: the template went "
                            f"past a limit: {exc}") from None
    except RecursionError as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: the template calls "
                            "or includes itself without end") from None
    except MemoryError as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: the template "
                            "needed more memory than there is") from None
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
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"{_template_location(exc, template_name)}: the template failed: "
                            f"{exc}") from None


def _suspended_at(generator: Any, fallback: str) -> str:
    """The template line a rendering generator is paused at (the innermost include)."""
    where = _where(fallback, 0)
    while generator is not None:
        frame = getattr(generator, "gi_frame", None)
        template = frame.f_globals.get("__jinja_template__") if frame is not None else None
        if frame is not None and template is not None:
            where = _where(template.filename or template.name or fallback,
                           template.get_corresponding_lineno(frame.f_lineno))
        generator = getattr(generator, "gi_yieldfrom", None)
    return where


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
