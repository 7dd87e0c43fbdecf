"""Handlers for programs that talk to other hosts: ssh, scp, rsync, curl, wget, nc, git.

A remote location's host is bare (user and port removed). Remote paths are taken
against `/home/<user>` (`user@host`, else `/home/user`) and `..` collapsed, with no
symlink resolution: they are not local files. Content that leaves the machine is a
`copy` effect with `host` set: from a local file (`scp f host:`, `curl -T f`,
`nc host < f`, `cat f | ssh host 'cat > x'`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from ._shell_state import Arg, Cmd, Scope, Stream, has_option, option_values, split_options

__all__ = ["NET_HANDLERS", "host_of_url", "remote_scope"]

Handler = Callable[[Cmd], Stream | None]

_REMOTE = re.compile(
    r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>\[[^\]]+\]|[A-Za-z0-9_.\-]+):(?P<path>.*)$", re.S
)


def host_of_url(url: str | None) -> str | None:
    """The host of a URL or `host[:port][/path]`; None if there is none."""
    if not url:
        return None
    text = url.strip()
    if "://" not in text:
        if text.startswith(("/", ".", "@")):
            return None
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    return host or None


def _user_of_url(url: str) -> str | None:
    try:
        return urlsplit(url if "://" in url else "//" + url).username
    except ValueError:
        return None


def remote_scope(cmd: Cmd, host: str | None, user: str | None) -> Scope:
    """The scope commands run in on `host` as `user` (home `/home/<user>`)."""
    home = "/root" if user == "root" else f"/home/{user or 'user'}"
    return Scope(cwd=home, home=home, host=host, decoder=cmd.scope.decoder)


def _split_remote(value: str | None) -> tuple[str | None, str | None, str] | None:
    """(`user`, `host`, `path`) for `[user@]host:path` or an scp/rsync URL; None if local."""
    if value is None:
        return None
    if value.startswith(("scp://", "sftp://", "rsync://", "ssh://")):
        parts = urlsplit(value)
        path = parts.path
        return parts.username, parts.hostname, path[1:] if path.startswith("/~") else path
    if value.startswith(("/", "./", "../", "~")):
        return None
    match = _REMOTE.match(value)
    if match is None:
        return None
    path = match.group("path")
    if path.startswith(":"):  # rsync daemon `host::module/path`
        path = "/" + path[1:]
    return match.group("user"), match.group("host").strip("[]"), path


def _remote_path(cmd: Cmd, user: str | None, host: str | None, path: str) -> str | None:
    return remote_scope(cmd, host, user).resolve(path or ".")


# --- ssh ---------------------------------------------------------------------------------


def _ssh(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="BbcDEeFIiJLlmOoPpQRSWw", stop_at_operand=True
    )
    if not operands:
        return None
    destination = operands[0].value
    if destination is None:
        cmd.network(None)
        cmd.opaque("ssh")
        return None
    user = next((v.value for v in option_values(options, "-l")), None)
    if destination.startswith("ssh://"):
        host = host_of_url(destination)
        user = user or _user_of_url(destination)
    else:
        login, _, host_part = destination.rpartition("@")
        user = user or login or None
        host = host_part.split(":")[0] or None
    cmd.network(host)
    words = operands[1:]
    if not words:  # a login shell: whatever is piped in is sent, then run there
        for source in cmd.stdin.sources:
            cmd.copy(source, None, host=host)
        if cmd.stdin.text is not None or cmd.stdin.opaque:
            cmd.engine.run_text(
                cmd, cmd.stdin.text, program="ssh", scope=remote_scope(cmd, host, user)
            )
        return None
    text: str | None = " ".join(w.value for w in words if w.value is not None)
    if any(w.value is None for w in words):
        text = None
    scope = remote_scope(cmd, host, user)
    before = len(cmd.engine.emitted())
    out = cmd.engine.run_text(cmd, text, stdin=cmd.stdin, program="ssh", scope=scope)
    if cmd.stdin.sources and not any(e.kind == "copy" for e in cmd.engine.emitted()[before:]):
        for source in cmd.stdin.sources:
            cmd.copy(source, None, host=host)
    return out


# --- scp / rsync / sftp ------------------------------------------------------------------


def _transfer(cmd: Cmd, sources: list[Arg], dest: Arg, *, delete_sources: bool = False) -> None:
    remote_dest = _split_remote(dest.value)
    dest_is_dir = (
        len(sources) > 1
        or (dest.value or "").endswith("/")
        or (remote_dest is not None and remote_dest[2] in ("", ".", "~"))
    )
    for source in sources:
        value = source.value
        remote_source = _split_remote(value)
        base = posixpath.basename((remote_source[2] if remote_source else value or "").rstrip("/"))
        contents_only = (value or "").endswith("/") and cmd.name == "rsync"
        if remote_dest is not None:
            user, host, path = remote_dest
            cmd.network(host)
            target_path = path or "."
            if (dest_is_dir or path in ("", ".")) and base and not contents_only:
                target_path = posixpath.join(target_path, base)
            target = _remote_path(cmd, user, host, target_path)
            if remote_source is None:
                local = cmd.read(source)
                cmd.emit("write", path=target, host=host)
                cmd.copy(local, target, host=host)
                if delete_sources:
                    cmd.delete(source)
            else:
                cmd.network(remote_source[1])
                cmd.emit("write", path=target, host=host)
        else:
            target_value = dest.value
            if (
                target_value is not None
                and (dest_is_dir or _is_dir(target_value))
                and base
                and not contents_only
            ):
                target_value = posixpath.join(target_value, base)
            if remote_source is not None:
                user, host, path = remote_source
                cmd.network(host)
                cmd.emit("read", path=_remote_path(cmd, user, host, path), host=host)
                cmd.write(target_value if dest.value is not None else None)
            else:
                local = cmd.read(source)
                target = cmd.write(target_value if dest.value is not None else None)
                cmd.copy(local, target)
                if delete_sources:
                    cmd.delete(source)


def _is_dir(value: str) -> bool:
    return value.endswith("/") or value in (".", "..", "~")


def _scp(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="cFiJlLoPSDX")
    if len(operands) >= 2:
        _transfer(cmd, operands[:-1], operands[-1])
    return None


_RSYNC_LONG_VALUES = frozenset(
    {
        "--exclude",
        "--include",
        "--exclude-from",
        "--include-from",
        "--files-from",
        "--rsh",
        "--filter",
        "--log-file",
        "--password-file",
        "--temp-dir",
        "--compare-dest",
        "--link-dest",
        "--copy-dest",
        "--backup-dir",
        "--chmod",
        "--chown",
        "--rsync-path",
        "--max-size",
        "--min-size",
        "--timeout",
        "--bwlimit",
        "--partial-dir",
        "--suffix",
        "--port",
        "--out-format",
        "--info",
        "--debug",
        "--usermap",
        "--groupmap",
        "--iconv",
        "--address",
    }
)


def _rsync(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="efBTM", long_values=_RSYNC_LONG_VALUES
    )
    for value in option_values(
        options, "--exclude-from", "--include-from", "--files-from", "--password-file"
    ):
        cmd.read(value)
    if len(operands) < 2:
        return None
    dest = operands[-1]
    _transfer(cmd, operands[:-1], dest, delete_sources=has_option(options, "--remove-source-files"))
    if has_option(
        options,
        "--delete",
        "--delete-before",
        "--delete-after",
        "--delete-during",
        "--delete-excluded",
        "--del",
    ):
        remote = _split_remote(dest.value)
        if remote is None:
            cmd.delete(dest)
        else:
            cmd.emit(
                "delete", path=_remote_path(cmd, remote[0], remote[1], remote[2]), host=remote[1]
            )
    return None


def _sftp(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="BbcDFiJlooPRS")
    for value in option_values(options, "-b"):
        cmd.read(value)
    for arg in operands:
        remote = _split_remote(arg.value)
        host = remote[1] if remote else (arg.value or "").rpartition("@")[2] or None
        cmd.network(host)
    if cmd.stdin.text is None and cmd.stdin.sources:
        for source in cmd.stdin.sources:
            cmd.read(source)
    return None


# --- http clients ------------------------------------------------------------------------

_CURL_SHORT_VALUES = "AbcCdDeEFHKmoPQrTuUwxXyYzt"
_CURL_LONG_VALUES = frozenset(
    {
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "--data-ascii",
        "--json",
        "--form",
        "--form-string",
        "--upload-file",
        "--output",
        "--header",
        "--request",
        "--user",
        "--user-agent",
        "--referer",
        "--cookie",
        "--cookie-jar",
        "--config",
        "--max-time",
        "--connect-timeout",
        "--retry",
        "--retry-delay",
        "--retry-max-time",
        "--proxy",
        "--cacert",
        "--capath",
        "--cert",
        "--key",
        "--url",
        "--write-out",
        "--range",
        "--continue-at",
        "--dump-header",
        "--limit-rate",
        "--max-filesize",
        "--resolve",
        "--connect-to",
        "--interface",
        "--local-port",
        "--output-dir",
        "--unix-socket",
        "--oauth2-bearer",
        "--aws-sigv4",
        "--stderr",
        "--trace",
        "--trace-ascii",
        "--time-cond",
        "--netrc-file",
        "--proto",
        "--proto-redir",
        "--noproxy",
        "--preproxy",
        "--proxy-user",
        "--socks5",
        "--socks5-hostname",
        "--variable",
        "--mail-from",
        "--mail-rcpt",
        "--ftp-port",
        "--quote",
        "--cert-type",
        "--key-type",
        "--pinnedpubkey",
        "--expect100-timeout",
        "--keepalive-time",
        "--max-redirs",
        "--retry-connrefused",
    }
)
_CURL_DATA = ("-d", "--data", "--data-binary", "--data-ascii", "--json", "--data-urlencode")
_CURL_FORM = ("-F", "--form")


def _upload_file(value: str | None, *, form: bool, urlencode: bool) -> str | None:
    """The file a curl data/form argument sends (`@f`, `name=@f`, `name=<f`), else None."""
    if value is None:
        return None
    if form:
        _, eq, rest = value.partition("=")
        if eq and rest[:1] in ("@", "<"):
            return rest[1:].split(";", 1)[0]
        return None
    if urlencode:
        name, at, rest = value.partition("@")
        if at and "=" not in name:
            return rest
        return None
    return value[1:] if value.startswith("@") else None


def _send_file(cmd: Cmd, value: str | None, host: str | None) -> None:
    if value is None:
        cmd.emit("copy", source=None, host=host)
        return
    if value == "-":
        for source in cmd.stdin.sources:
            cmd.copy(source, None, host=host)
        return
    cmd.copy(cmd.read(value), None, host=host)


def _curl(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values=_CURL_SHORT_VALUES, long_values=_CURL_LONG_VALUES
    )
    urls = [*operands, *option_values(options, "--url")]
    hosts = [host_of_url(u.value) for u in urls] or [None]
    for host in hosts:
        cmd.network(host)
    host = hosts[0]
    for config in option_values(options, "-K", "--config"):
        cmd.read(config)
    for upload in option_values(options, "-T", "--upload-file"):
        _send_file(cmd, upload.value, host)
    for name, value in options:
        if value is None:
            continue
        if name in _CURL_DATA:
            _send_file_if(
                cmd,
                _upload_file(value.value, form=False, urlencode=name == "--data-urlencode"),
                host,
            )
        elif name in _CURL_FORM:
            _send_file_if(cmd, _upload_file(value.value, form=True, urlencode=False), host)
    output_dirs = option_values(options, "--output-dir")
    outputs = option_values(options, "-o", "--output")
    for value in outputs:
        if value.value != "-":
            cmd.write(_in_dir(output_dirs, value.value))
    if has_option(options, "-O", "--remote-name", "--remote-name-all"):
        for url in urls:
            remote_name = posixpath.basename(urlsplit(url.value).path) if url.value else None
            cmd.write(_in_dir(output_dirs, remote_name or None) if url.value else None)
    if outputs or has_option(options, "-O", "--remote-name"):
        return Stream(text="")
    return Stream(hosts=tuple(hosts), unknown=True)


def _send_file_if(cmd: Cmd, value: str | None, host: str | None) -> None:
    if value is not None:
        _send_file(cmd, value, host)


def _in_dir(dirs: list[Arg], name: str | None) -> str | None:
    if name is None:
        return None
    if dirs and dirs[-1].value is not None and not name.startswith("/"):
        return posixpath.join(dirs[-1].value, name)
    return name


def _wget(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="OoaPiUeTtwQlARDIXB", long_values=frozenset()
    )
    hosts = [host_of_url(u.value) for u in operands] or [None]
    for host in hosts:
        cmd.network(host)
    for value in option_values(options, "-i", "--input-file"):
        cmd.read(value)
    for value in option_values(options, "--post-file", "--body-file"):
        _send_file(cmd, value.value, hosts[0])
    for value in option_values(options, "-o", "-a", "--output-file", "--append-output"):
        cmd.write(value)
    documents = option_values(options, "-O", "--output-document")
    if documents:
        if documents[-1].value == "-":
            return Stream(hosts=tuple(hosts), unknown=True)
        cmd.write(documents[-1])
        return Stream(text="")
    prefixes = option_values(options, "-P", "--directory-prefix")
    for url in operands:
        if url.value is None:
            cmd.write(None)
            continue
        name = (
            posixpath.basename(urlsplit(url.value if "://" in url.value else "//" + url.value).path)
            or "index.html"
        )
        cmd.write(_in_dir(prefixes, name))
    return Stream(text="")


_HTTPIE_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def _httpie(cmd: Cmd) -> Stream | None:
    _, operands = split_options(
        cmd.args, short_values="aAovp", long_values=frozenset({"--auth", "--output"})
    )
    if operands and operands[0].value in _HTTPIE_METHODS:
        operands = operands[1:]
    if not operands:
        return None
    url = operands[0].value
    if url is not None and url.startswith(":"):
        url = "localhost" + url
    host = host_of_url(url)
    cmd.network(host)
    for item in operands[1:]:
        value = item.value or ""
        match = re.match(r"^[^=@:]*(?:=@|@|:=@)(.+)$", value)
        if match:
            _send_file(cmd, match.group(1), host)
    if cmd.stdin.sources:
        for source in cmd.stdin.sources:
            cmd.copy(source, None, host=host)
    return Stream(hosts=(host,), unknown=True)


# --- raw sockets -------------------------------------------------------------------------


def _netcat(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args,
        short_values="pswiqxXIOTeMmcGgV",
        long_values=frozenset({"--exec", "--sh-exec", "--lua-exec"}),
    )
    listening = has_option(options, "-l", "--listen")
    host = None
    if operands and not (listening and len(operands) == 1 and (operands[0].value or "").isdigit()):
        host = operands[0].value if operands[0].value is not None else None
    cmd.network(host)
    for name, value in options:
        if name in ("-e", "--exec", "-c", "--sh-exec", "--lua-exec"):
            # A program wired to a socket runs what the other end sends: opaque.
            cmd.opaque(posixpath.basename(value.value) if value and value.value else cmd.name)
    for source in cmd.stdin.sources:
        cmd.copy(source, None, host=host)
    if cmd.stdin.unknown and not cmd.stdin.sources:
        cmd.emit("copy", source=None, host=host)  # something unknown is sent
    return Stream(hosts=(host,), unknown=True)


_SOCAT_NET = (
    "TCP",
    "TCP4",
    "TCP6",
    "UDP",
    "UDP4",
    "UDP6",
    "SSL",
    "OPENSSL",
    "SOCKS",
    "SOCKS4",
    "SOCKS4A",
    "SOCKS5",
    "PROXY",
    "SCTP",
)
_SOCAT_FILE = ("FILE", "OPEN", "CREATE", "GOPEN", "PIPE")


def _socat(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="dlLT")
    hosts: list[str | None] = []
    files: list[str | None] = []
    programs: list[str | None] = []
    for arg in operands[:2]:
        value = arg.value
        if value is None:
            hosts.append(None)
            continue
        kind, _, params = value.partition(":")
        kind = kind.upper().split("-")[0]
        if kind in _SOCAT_NET and not kind.endswith("LISTEN"):
            hosts.append(params.split(":")[0].split(",")[0] or None)
        elif kind in _SOCAT_FILE:
            files.append(params.split(",")[0])
        elif kind in ("EXEC", "SYSTEM"):
            programs.append(params.split(",")[0])
        elif kind == "" and value not in ("-", "STDIO", "STDIN", "STDOUT"):
            files.append(value)
    for host in hosts:
        cmd.network(host)
    for program in programs:
        if hosts:
            cmd.opaque(posixpath.basename((program or "").split()[0]) if program else None)
        else:
            cmd.engine.run_text(cmd, program, program="socat")
    for value in files:
        path = cmd.read(value)
        for host in hosts:
            cmd.copy(path, None, host=host)
    for source in cmd.stdin.sources:
        for host in hosts:
            cmd.copy(source, None, host=host)
    return Stream(hosts=tuple(hosts), unknown=True)


def _simple_host(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="lbeknpPsoX")
    host = None
    if operands:
        host = host_of_url(operands[0].value) if operands[0].value else None
    cmd.network(host)
    for source in cmd.stdin.sources:
        cmd.copy(source, None, host=host)
    return Stream(hosts=(host,), unknown=True)


# --- git, pip, cloud copies ----------------------------------------------------------------


def _git(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    while args and args[0].value is not None and args[0].value.startswith("-"):
        flag = args.pop(0).value or ""
        if flag in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") and args:
            value = args.pop(0)
            if flag == "-C":  # `git -C dir rm f` removes dir/f
                cmd = _with_cwd(cmd, cmd.path(value))
    if not args:
        return None
    verb = args[0].value
    rest = args[1:]
    options, operands = split_options(
        rest, short_values="bmnoeuSsjCXA", long_values=frozenset({"--source", "--exclude"})
    )
    if verb in ("clone",):
        if operands:
            _git_remote(cmd, operands[0].value)
            if len(operands) > 1:
                cmd.write(operands[1])
            elif operands[0].value:
                name = posixpath.basename(operands[0].value.rstrip("/"))
                cmd.write(name[:-4] if name.endswith(".git") else name)
    elif verb in ("push", "fetch", "pull", "ls-remote"):
        _git_remote(cmd, operands[0].value if operands else None)
    elif verb == "submodule" and operands and operands[0].value == "add" and len(operands) > 1:
        _git_remote(cmd, operands[1].value)
    elif verb == "rm":
        if not has_option(options, "--cached"):
            for arg in operands:
                cmd.delete(arg)
    elif verb == "clean":
        if not has_option(options, "-n", "--dry-run"):
            targets = operands or [Arg(".", ".")]
            for arg in targets:
                path = cmd.path(arg)
                cmd.file_effect("delete", path.rstrip("/") + "/**" if path else None)
    elif verb == "mv" and len(operands) >= 2:
        from ._shell_files import FILE_HANDLERS

        FILE_HANDLERS["mv"](_with_args(cmd, operands))
    elif verb in ("checkout", "restore"):
        dashdash = next((i for i, a in enumerate(rest) if a.value == "--"), None)
        if dashdash is not None:
            files = rest[dashdash + 1 :]
        elif verb == "restore":
            files = operands
        else:
            files = [a for a in operands[1:]] + [
                a for a in operands[:1] if a.value and ("/" in a.value or "." in a.value)
            ]
        for arg in files:
            cmd.write(arg)
    elif verb in ("apply", "am"):
        for arg in operands:
            cmd.read(arg)
        if not has_option(options, "--check", "--stat"):
            cmd.file_effect("write", None)
    return None


def _git_remote(cmd: Cmd, value: str | None) -> None:
    if value is None:
        cmd.network(None)
        return
    remote = _split_remote(value)
    if "://" in value:
        cmd.network(host_of_url(value))
    elif remote is not None:
        cmd.network(remote[1])
    else:
        cmd.network(None)  # a named remote: its URL is in .git/config


def _with_cwd(cmd: Cmd, cwd: str | None) -> Cmd:
    scope = cmd.scope.copy()
    scope.cwd = cwd
    return Cmd(
        cmd.engine, scope, cmd.name, cmd.args, cmd.stdin, cmd.via, cmd.env, cmd.sink, cmd.reads
    )


def _with_args(cmd: Cmd, args: list[Arg]) -> Cmd:
    return Cmd(
        cmd.engine, cmd.scope, cmd.name, args, cmd.stdin, cmd.via, cmd.env, cmd.sink, cmd.reads
    )


def _pip(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args,
        short_values="rcieft",
        long_values=frozenset(
            {
                "--index-url",
                "--extra-index-url",
                "--requirement",
                "--constraint",
                "--target",
                "--find-links",
            }
        ),
    )
    for value in option_values(options, "-r", "--requirement", "-c", "--constraint"):
        cmd.read(value)
    for value in option_values(
        options, "-i", "--index-url", "--extra-index-url", "-f", "--find-links"
    ):
        cmd.network(host_of_url(value.value))
    for arg in operands[1:]:
        spec = arg.value or ""
        if "://" in spec:
            cmd.network(host_of_url(spec.split("+", 1)[-1] if spec.startswith("git+") else spec))
    return None


def _cloud_copy(cmd: Cmd) -> Stream | None:
    args = cmd.args
    if cmd.name == "aws":
        if len(args) < 2 or args[0].value != "s3" or args[1].value not in ("cp", "mv", "sync"):
            return None
        verb, args = args[1].value, args[2:]
    elif cmd.name == "rclone":
        if not args or args[0].value not in ("copy", "copyto", "sync", "move", "moveto"):
            return None
        verb, args = args[0].value, args[1:]
    else:  # gsutil
        if not args or args[0].value not in ("cp", "mv", "rsync"):
            return None
        verb, args = args[0].value, args[1:]
    _, operands = split_options(args, short_values="")
    if len(operands) < 2:
        return None
    dest = operands[-1]
    dest_host = _bucket(dest.value)
    for source in operands[:-1]:
        source_host = _bucket(source.value)
        if dest_host is not None:
            cmd.network(dest_host)
            if source_host is None:
                cmd.copy(cmd.read(source), None, host=dest_host)
        elif source_host is not None:
            cmd.network(source_host)
            cmd.write(dest)
        if verb in ("mv", "move", "moveto") and source_host is None:
            cmd.delete(source)
    return None


def _bucket(value: str | None) -> str | None:
    if value is None:
        return None
    if "://" in value:
        return urlsplit(value).netloc or None
    name, colon, _ = value.partition(":")
    if colon and name and "/" not in name:
        return name
    return None


NET_HANDLERS: dict[str, Handler] = {
    "ssh": _ssh,
    "scp": _scp,
    "rsync": _rsync,
    "sftp": _sftp,
    "curl": _curl,
    "wget": _wget,
    "http": _httpie,
    "https": _httpie,
    "xh": _httpie,
    "nc": _netcat,
    "ncat": _netcat,
    "netcat": _netcat,
    "nc.openbsd": _netcat,
    "nc.traditional": _netcat,
    "socat": _socat,
    "telnet": _simple_host,
    "ftp": _simple_host,
    "lftp": _simple_host,
    "ssh-copy-id": _simple_host,
    "git": _git,
    "pip": _pip,
    "pip3": _pip,
    "aws": _cloud_copy,
    "gsutil": _cloud_copy,
    "rclone": _cloud_copy,
}
