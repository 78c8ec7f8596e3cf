"""`python -m tegaki.runtime` runs edge-predict (where no console script was installed)."""

from tegaki.runtime.cli import main

main()
