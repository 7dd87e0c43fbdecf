"""Programs that run inside the sandbox, beside every agent command (never imported).

They are copied into the sample's files (a read-only directory of the agent's home)
and run with the sandbox's own `/usr/bin/python3`, so they use the standard library
only and target Python 3.9 or later.
"""
