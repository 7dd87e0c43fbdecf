"""`python -m tripwire` runs the command line."""

from tripwire._cli.main import main

main()
