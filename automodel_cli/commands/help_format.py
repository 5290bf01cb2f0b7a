"""How every command's --help (and the generated docs/commands.md) shows its parameters: like pip's or the
hf CLI's, `Usage: amx source [OPTIONS] AUTOCLASS MODEL` and `--revision REV`, without the type labels
(`<bool>`, `<str>`, `<list[str]>`) and braces (`{MODEL}`, `[[QUERY]]`) that Typer adds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # its name (MODEL, AUTOCLASS) says what it is

    def _usage_display_name(self) -> str:
        name = self.metavar or self.name.upper()
        if self.nargs != 1:
            name += "..."
        return name if self.required else f"[{name}]"


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or self.name.upper()


def _plain(params: Iterable[Any]) -> None:
    """Give Typer's parameters the plain display; anything else (a future Typer's own classes) is left as is."""
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
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
