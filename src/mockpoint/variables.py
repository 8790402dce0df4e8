"""``${NAME}`` references: the one syntax of variables in scenarios and configuration files.

A value ``${NAME}`` stands for a variable (docs/scenario-format.md): in a scenario, a
variable saved by an earlier step (``save:``), a ``--var``, or else an environment variable;
in the mock CSMS's configuration, an environment variable (a password need not be written
in the file). A name starts with a letter or ``_`` and goes on with letters, digits and
``_``.

One difference is real and explicit here: a scenario's variable may also hold dots
(``${tx.id}``), since ``save:`` names its variables freely, while an environment variable
cannot (:data:`ENV_REFERENCE`, ``dots=False``): ``${A.B}`` in a mock CSMS password is that
text, not a reference.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ENV_REFERENCE",
    "REFERENCE",
    "UnknownVariable",
    "env_reference",
    "names_in",
    "resolve",
]

_START = "[A-Za-z_]"
#: ``${NAME}`` where NAME may hold dots: a scenario's variable (saved, --var, environment).
REFERENCE = re.compile(rf"\$\{{({_START}[A-Za-z0-9_.]*)\}}")
#: ``${NAME}`` where NAME is an environment variable's: letters, digits and ``_`` only.
ENV_REFERENCE = re.compile(rf"\$\{{({_START}[A-Za-z0-9_]*)\}}")


class UnknownVariable(LookupError):
    """A ``${name}`` that is neither a saved variable nor an environment variable."""


def names_in(text: str, *, dots: bool = True) -> list[str]:
    """The names ``text`` refers to as ``${NAME}``, in order; with ``dots=False`` only those
    an environment variable could answer (no dots)."""
    return (REFERENCE if dots else ENV_REFERENCE).findall(text)


def env_reference(text: str) -> str | None:
    """The environment variable ``text`` is exactly a reference to (``${NAME}``), or None."""
    whole = ENV_REFERENCE.fullmatch(text)
    return whole.group(1) if whole is not None else None


def resolve(value: Any, variables: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> Any:
    """``value`` with every ``${name}`` replaced: saved variables first, then the environment.

    A string that is exactly one ``${name}`` becomes the variable's value with its type (a
    saved transaction id stays an integer); inside longer text it is substituted as text.
    Raises :class:`UnknownVariable` for a name that is neither.
    """
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole is not None:
            return _lookup(whole.group(1), variables, env)
        return REFERENCE.sub(lambda m: str(_lookup(m.group(1), variables, env)), value)
    if isinstance(value, dict):
        return {key: resolve(item, variables, env) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, variables, env) for item in value]
    return value


def _lookup(name: str, variables: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    if name in variables:
        return variables[name]
    if name in env:
        return env[name]
    if not env:  # mockpoint serve's verbs read no environment
        raise UnknownVariable(f"${{{name}}} is not a saved variable")
    raise UnknownVariable(f"${{{name}}} is neither a saved variable nor an environment variable")
