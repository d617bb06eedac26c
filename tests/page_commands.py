"""The `backsmith` lines of a docs page's first ```sh block, run as a reader would type them."""

from __future__ import annotations

from backsmith.cli import main


def run_first_sh_block(page: str) -> None:
    """Run each line (its `# comment` dropped) through the command line; each must exit 0."""
    block = page.split("```sh\n", 1)[1].split("```", 1)[0]
    for line in block.splitlines():
        command = line.split("#", 1)[0].split()
        assert command[0] == "backsmith", line
        assert main(command[1:]) == 0, line
