"""``python -m customer360 …`` is the same as the ``customer360`` command."""

from customer360.cli import main

main()
