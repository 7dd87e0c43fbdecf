# tripwire guard run: this shell reads its commands as it goes (from a terminal, a pipe,
# a script file, or a -c command that sources a file), so each command is checked with
# the supervisor before it runs; a refusal skips it. The shim started bash with this file
# as --rcfile and BASH_ENV; the shell's own start-up files are not read (they would run
# unchecked), and variables that run code (BASH_ENV, ENV, exported functions, SHELLOPTS,
# PS4, PROMPT_COMMAND) were removed.
if [ -z "${__tripwire_guarded-}" ]; then
  __tripwire_guarded=1
  unset BASH_ENV ENV
  if [ -n "${TW_POSIX-}" ]; then unset TW_POSIX; set -o posix; fi
  set -T
  # extdebug makes a failed DEBUG trap skip the command. Set in a start-up file it would
  # also load the bash debugger, so the trap sets it, after start-up.
  trap 'shopt -s extdebug; /opt/tripwire/bin/tripwire-check "$BASH_COMMAND"' DEBUG
fi
