"""The `inspection` entry point: every subcommand is listed, only the chosen one is imported,
no subcommand prints help and exits 2."""

import subprocess
import sys

from inspection_nodes.cli.main import SUBCOMMANDS, build_parser, main


def test_help_lists_every_subcommand_without_importing_them(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert all(name in out for name, _module, _help in SUBCOMMANDS)
    code = (
        "import sys; from inspection_nodes.cli.main import build_parser; "
        "build_parser(['rollback']); print('torch' in sys.modules, 'rclpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_chosen_subcommand_is_registered_with_its_options():
    args = build_parser(["rollback"]).parse_args(["rollback", "--model", "m"])
    assert str(args.model) == "m" and callable(args.func)
