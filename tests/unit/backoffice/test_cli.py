from __future__ import annotations

from dayclose.cli import _cmd_api, build_parser


def test_dayclose_api_runs_the_backoffice_api() -> None:
    assert build_parser().parse_args(["api"]).func is _cmd_api
