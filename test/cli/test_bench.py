"""`inspection bench`: every benchmark registers; no benchmark named prints help and exits 2."""

from inspection_nodes.cli.bench import BENCHMARKS
from inspection_nodes.cli.main import build_parser, main


def test_every_benchmark_is_a_subcommand(capsys):
    assert main(["bench"]) == 2
    out = capsys.readouterr().out
    assert all(name in out for name, _module in BENCHMARKS)
    args = build_parser(["bench"]).parse_args(["bench", "engine", "--json", "x.json"])
    assert args.benchmark == "engine" and callable(args.func)
