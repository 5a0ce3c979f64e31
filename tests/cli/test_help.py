"""Every command's --help: help text on every argument, defaults shown, an example."""

import argparse
import io

import pytest

from anrc.cli import EXAMPLES, build_parser


def _commands():
    parser = build_parser()
    found = []

    def walk(p, name):
        found.append((name, p))
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub_name, sub in a.choices.items():
                    walk(sub, sub_name)

    walk(parser, "anrc")
    return found[1:]


@pytest.mark.parametrize("name,parser", _commands(), ids=[n for n, _ in _commands()])
def test_help_has_text_defaults_and_an_example(name, parser):
    for action in parser._actions:
        assert action.help, f"{name}: {action.dest} has no help text"
    text = io.StringIO()
    parser.print_help(text)
    epilog = " ".join(text.getvalue().split("example: ")[-1].split())
    assert "example: " in text.getvalue() and "anrc " in epilog
    with_default = [
        a for a in parser._actions
        if a.option_strings and a.default not in (None, False, [], argparse.SUPPRESS)
    ]  # fmt: skip
    for a in with_default:
        assert "default" in parser.formatter_class(name)._get_help_string(a).lower(), a.dest


def test_examples_name_real_commands():
    names = {n for n, _ in _commands()}
    assert set(EXAMPLES) <= names
