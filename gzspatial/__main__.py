"""Run the command line as ``python -m gzspatial``."""

from gzspatial.cli import main

main()
