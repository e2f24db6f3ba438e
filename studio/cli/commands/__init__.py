"""One module per subcommand, each defining ``COMMAND = Command(...)``; see :mod:`studio.cli.registry`."""
