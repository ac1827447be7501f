"""The `inspection` command line tool: one module per subcommand."""
