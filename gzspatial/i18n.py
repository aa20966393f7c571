"""Languages of the interface (zh, en): the default-language rule, the language in force, and messages.

Messages are marked where they are written, gettext style: ``_("column {name!r} not found").format(name=...)``.
``_`` returns the Chinese of the template when the language in force is zh (``use("zh")``, which the CLI
sets from ``--lang``), else the template itself: the Python API speaks English unless its caller sets a
language, and keeps its explicit ``lang=`` arguments for names in data.

Why a plain catalog (``gzspatial/_messages_zh.py``, English template → Chinese) rather than gettext's
.po/.mo files: two languages maintained in the same repository as the code, no compile step and no
binary files to keep in step with their source, and the check msgfmt would do (every marked template
translated, with the same placeholders) is a test (tests/test_i18n.py walks ``gzspatial/`` for ``_()``
calls). The marking is gettext's own, so moving to gettext later is mechanical.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from gzspatial._errors import InputError

#: Environment variable giving the default language (below ``--lang``, above the locale).
ENV = "GZ_LANG"
#: Locale variables read, first set wins (as POSIX does for messages).
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")


class Lang(StrEnum):
    """Languages of messages, labels, legends and reports (``--lang``)."""

    ZH = "zh"
    EN = "en"


_current: ContextVar[Lang] = ContextVar("gzspatial_lang", default=Lang.EN)


def locale_lang(environ: Mapping[str, str] | None = None) -> Lang:
    """The language of the POSIX locale: ``zh*`` → zh; any other language, ``C``, ``POSIX`` or none → en."""
    env = os.environ if environ is None else environ
    for key in LOCALE_VARS:
        value = env.get(key)
        if value:
            return Lang.ZH if value.lower().startswith("zh") else Lang.EN
    return Lang.EN


def parse(value: str, *, source: str = "--lang") -> Lang:
    """``value`` as a Lang (``zh``/``en``, any case); an InputError naming it and the choices otherwise."""
    try:
        return Lang(str(value).strip().lower())
    except ValueError:
        raise InputError(
            _("{source} {value!r} is not a supported language: use zh or en").format(source=source, value=value)
        ) from None


def resolve(lang: str | None = None, environ: Mapping[str, str] | None = None) -> Lang:
    """The language to use: ``lang`` (``--lang``) if given, else ``GZ_LANG``, else the locale."""
    if lang is not None:
        return parse(lang, source="--lang")
    env = os.environ if environ is None else environ
    if env.get(ENV):
        return parse(env[ENV], source=ENV)
    return locale_lang(env)


def current() -> Lang:
    """The language in force (en unless a caller set one with :func:`use`)."""
    return _current.get()


@contextmanager
def use(lang: str) -> Iterator[Lang]:
    """Set the language in force for the ``with`` block (this thread/task only)."""
    token = _current.set(parse(lang))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def _(template: str) -> str:
    """The message ``template`` in the language in force (the template itself when untranslated or en)."""
    if _current.get() is Lang.EN:
        return template
    from gzspatial._messages_zh import MESSAGES  # only loaded when Chinese is asked for

    return MESSAGES.get(template, template)


def usage_error(message: str) -> str:
    """A usage error of typer's parser (click's English) in the language in force; the common forms
    are translated by pattern (``_messages_zh.USAGE_ERRORS``), others stay as they are."""
    if _current.get() is Lang.EN:
        return message
    import re

    from gzspatial._messages_zh import USAGE_ERRORS

    for pattern, template in USAGE_ERRORS:
        found = re.match(pattern, message)
        if found:
            return template.format(**found.groupdict())
    return message


def N_(template: str) -> str:  # noqa: N802 (gettext's name for it)
    """Mark a message kept in a table and translated where it is used (``_(kind)``); returns it unchanged."""
    return template


def text(zh: str, en: str, lang: str | None = None) -> str:
    """The Chinese or English of a UI string, in ``lang`` or the language in force."""
    return zh if (current() if lang is None else lang) == Lang.ZH else en
