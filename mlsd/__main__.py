"""`python -m mlsd` is the same as the `mlsd` command."""

from mlsd.cli.main import main

main()
