"""The `mlsd` command line: one module per subcommand, assembled in main.py."""
