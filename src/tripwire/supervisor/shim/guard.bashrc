# tripwire guard run: this shell reads its commands from a terminal or a pipe, so each
# command is checked with the supervisor before it runs (a refusal skips it). The shim
# started bash with this file as --rcfile, BASH_ENV and ENV; the shell's own start-up
# files are restored and sourced first.
if [ -z "${__tripwire_guarded-}" ]; then
  __tripwire_guarded=1
  if [ -n "${TW_BASH_ENV+x}" ]; then BASH_ENV=$TW_BASH_ENV; else unset BASH_ENV; fi
  if [ -n "${TW_ENV+x}" ]; then ENV=$TW_ENV; else unset ENV; fi
  __tripwire_rc=${TW_USER_RC-$HOME/.bashrc}
  unset TW_BASH_ENV TW_ENV TW_USER_RC
  case $- in
    *i*) [ -f "$__tripwire_rc" ] && . "$__tripwire_rc" ;;
    *) [ -n "${BASH_ENV-}" ] && [ -f "$BASH_ENV" ] && . "$BASH_ENV" ;;
  esac
  unset __tripwire_rc
  if [ -n "${TW_POSIX-}" ]; then unset TW_POSIX; set -o posix; fi
  set -T
  # extdebug makes a failed DEBUG trap skip the command. Set in a start-up file it would
  # also load the bash debugger, so the trap sets it, after start-up.
  trap 'shopt -s extdebug; /opt/tripwire/bin/tripwire-check "$BASH_COMMAND"' DEBUG
fi
