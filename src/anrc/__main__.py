from anrc.cli import entry

entry()
