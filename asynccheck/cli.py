"""The `asynccheck` command line: thin wrappers that parse options and call the library."""

from __future__ import annotations

import click

from asynccheck import __version__


class LazyGroup(click.Group):
    """Imports a subcommand's module only when it runs: `lint` must not pay for the runtime."""

    lazy_commands = {
        "lint": "asynccheck.lint.cli:lint",
        "rules": "asynccheck.lint.cli:rules",
        "rule": "asynccheck.lint.cli:rule",
        "profile": "asynccheck.runtime.cli:profile",
        "server": "asynccheck.server.command:server",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy_commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return None
        import importlib

        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="asynccheck")
def main() -> None:
    """Find what makes asyncio code block, hang, leak or crawl."""
