"""How every command's --help (and the generated docs/commands.md) shows its parameters: like pip's or the
hf CLI's, `Usage: amx source [OPTIONS] AUTOCLASS MODEL` and `--revision REV`, without the type labels
(`<bool>`, `<str>`, `<list[str]>`) and braces (`{MODEL}`, `[[QUERY]]`) that Typer adds."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Argument(TyperArgument):
    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        name = self.metavar or (self.name or "").upper()
        if not usage:
            return name  # its name (MODEL, AUTOCLASS) says what it is
        if self.nargs != 1:
            name += "..."
        return name if self.required else f"[{name}]"


class _Option(TyperOption):
    def make_metavar(self, ctx: Any) -> str:
        return self.metavar or (self.name or "").upper()


@functools.cache
def _unlabelled(param_type: type) -> type:
    """`param_type` without the `<str>` label that Typer's help puts in an argument's type column."""
    return type(f"Unlabelled{param_type.__name__}", (param_type,), {"get_metavar": lambda self, param, ctx: ""})


def _plain(params: Iterable[Any]) -> None:
    """Give Typer's parameters the plain display; anything else (a future Typer's own classes) is left as is."""
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
            param.type = copy.copy(param.type)
            param.type.__class__ = _unlabelled(type(param.type))
        elif type(param) is TyperOption:
            param.__class__ = _Option


class AmxCommand(TyperCommand):
    """A command whose parameters print as `MODEL`, `[QUERY]`, `--revision REV` and `--json`."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain(params)
        return params


class AmxGroup(TyperGroup):
    """The `amx` group itself, shown the same way (`--version`, `--help`, the completion options)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain(params)
        return params
