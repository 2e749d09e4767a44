"""``python -m bridge.cli``: the ``ttns`` command."""

from bridge.cli import main

main()
