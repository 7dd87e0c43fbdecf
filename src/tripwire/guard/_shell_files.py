"""Handlers for programs that read, write, delete, copy or re-permission files.

Each handler gets the command (`Cmd`) after wrappers are peeled and emits its effects;
it returns what the program prints (a `Stream`) when that matters downstream, or None
for "output carries the files it read".

Without looking at the filesystem a destination is a directory only when the command
says so: a trailing `/`, `.`/`..`/`~`, several sources, or `-t DIR`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from ._shell_state import Arg, Cmd, Stream, has_option, option_values, split_options

__all__ = ["FILE_HANDLERS"]

Handler = Callable[[Cmd], Stream | None]


def _first_known(args: list[Arg]) -> Arg | None:
    return args[0] if args else None


# --- readers -----------------------------------------------------------------------------

_READ_SHORT_VALUES = {
    "head": "nc",
    "tail": "ncs",
    "cut": "bcdf",
    "nl": "bdfhilnsvw",
    "wc": "",
    "diff": "CUFILSxX",
    "cmp": "iIn",
    "od": "AjNtw",
    "hexdump": "enNs",
    "strings": "nte",
    "fold": "w",
    "fmt": "wpg",
    "paste": "d",
    "join": "aejot12",
    "column": "cst",
    "less": "bhjkoOpPtTxyz",
    "stat": "cf",
    "file": "efFmP",
    "iconv": "ft",
    "comm": "",
    "split": "abdlnt",
}

_READERS = [
    "cat",
    "tac",
    "less",
    "more",
    "most",
    "head",
    "tail",
    "nl",
    "wc",
    "diff",
    "diff3",
    "sdiff",
    "cmp",
    "comm",
    "stat",
    "file",
    "md5sum",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "b2sum",
    "cksum",
    "sum",
    "strings",
    "od",
    "hexdump",
    "fold",
    "fmt",
    "expand",
    "unexpand",
    "paste",
    "join",
    "column",
    "look",
    "bat",
    "batcat",
    "zcat",
    "zless",
    "zmore",
    "bzcat",
    "xzcat",
    "zstdcat",
    "lzcat",
    "view",
    "readlink",
    "realpath",
    "tsort",
    "shuf",
    "iconv",
    "base32",
    "xmllint",
    "yamllint",
    "jsonlint",
    "lsattr",
    "getfacl",
    "exiftool",
]


def _reader(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values=_READ_SHORT_VALUES.get(cmd.name, ""))
    if cmd.name == "iconv":
        for value in option_values(options, "-o", "--output"):
            cmd.write(value)
    for arg in operands:
        if arg.value != "-":
            cmd.read(arg)
    return None


def _cat(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args)
    files = [a for a in operands if a.value != "-"]
    for arg in files:
        cmd.read(arg)
    if not files or len(files) < len(operands):
        stdin = cmd.stdin
        if not files:
            return stdin if stdin.piped else None
        return Stream(
            sources=tuple(dict.fromkeys([*cmd.reads, *stdin.sources])),
            hosts=stdin.hosts,
            unknown=True,
        )
    return Stream(sources=tuple(cmd.reads))


def _pattern_first(
    cmd: Cmd, short_values: str, pattern_options: tuple[str, ...], file_options: tuple[str, ...]
) -> None:
    options, operands = split_options(
        cmd.args,
        short_values=short_values,
        long_values=frozenset(
            {"--regexp", "--file", "--max-count", "--context", "--include", "--exclude", "--glob"}
        ),
    )
    for value in option_values(options, *file_options):
        cmd.read(value)
    if not has_option(options, *pattern_options, *file_options):
        operands = operands[1:]
    for arg in operands:
        if arg.value != "-":
            cmd.read(arg)


def _grep(cmd: Cmd) -> Stream | None:
    _pattern_first(cmd, "efmABCdDg", ("-e", "--regexp"), ("-f", "--file"))
    return None


def _rg(cmd: Cmd) -> Stream | None:
    _pattern_first(cmd, "efgmABCMtTj", ("-e", "--regexp"), ("-f", "--file"))
    return None


def _awk(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="fvFW")
    program_files = option_values(options, "-f", "--file")
    for value in program_files:
        cmd.read(value)
    if not program_files and operands:
        program = operands.pop(0).value
        from ._script_code import awk_effects

        awk_effects(cmd, program)
    for arg in operands:
        if arg.value is not None and "=" in arg.value and not arg.value.startswith("/"):
            continue  # var=value assignments between files
        if arg.value != "-":
            cmd.read(arg)
    return None


def _sed(cmd: Cmd) -> Stream | None:
    args = cmd.args
    in_place = False
    normalised: list[Arg] = []
    for arg in args:
        value = arg.value or ""
        if value.startswith("--in-place"):
            in_place = True
            continue
        if value.startswith("-") and not value.startswith("--"):
            letters = value[1:]
            cut = letters.find("i")
            if cut >= 0 and all(c in "nrEsuzl" for c in letters[:cut]):
                in_place = True
                if letters[:cut]:
                    normalised.append(Arg("-" + letters[:cut], arg.raw))
                continue
        normalised.append(arg)
    options, operands = split_options(
        normalised, short_values="efl", long_values=frozenset({"--expression", "--file"})
    )
    scripts = option_values(options, "-e", "--expression")
    for script_file in option_values(options, "-f", "--file"):
        cmd.read(script_file)
    if not scripts and not has_option(options, "-f", "--file") and operands:
        scripts = [operands.pop(0)]
    from ._script_code import sed_effects

    for script in scripts:
        sed_effects(cmd, script.value)
    for arg in operands:
        if arg.value == "-":
            continue
        cmd.read(arg)
        if in_place:
            cmd.write(arg)
    return None


def _tee(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args)
    for arg in operands:
        path = cmd.write(arg)
        for source in cmd.stdin.sources:
            if path is not None and source != path:
                cmd.copy(source, path)
    return cmd.stdin


def _dd(cmd: Cmd) -> Stream | None:
    source: str | None = None
    dest_given = False
    for arg in cmd.args:
        key, eq, value = (arg.value or "").partition("=")
        if not eq and arg.value is not None:
            continue
        if arg.value is None:
            continue
        if key == "if":
            source = cmd.read(value)
        elif key == "of":
            dest_given = True
            dest = cmd.write(value)
            if source is not None:
                cmd.copy(source, dest)
            for stdin_source in cmd.stdin.sources if source is None else ():
                cmd.copy(stdin_source, dest)
    if dest_given:
        return Stream(text="")
    return Stream(
        sources=(source,) if source else cmd.stdin.sources,
        unknown=source is None and cmd.stdin.unknown,
    )


def _writer(short_values: str = "", long_values: frozenset[str] = frozenset()) -> Handler:
    def handler(cmd: Cmd) -> Stream | None:
        options, operands = split_options(
            cmd.args, short_values=short_values, long_values=long_values
        )
        if cmd.name == "touch":
            for value in option_values(options, "-r", "--reference"):
                cmd.read(value)
        for arg in operands:
            if cmd.name in ("vim", "vi", "nvim", "emacs", "nano", "micro", "kak") and (
                arg.value or ""
            ).startswith("+"):
                continue
            cmd.write(arg)
        return None

    return handler


def _editor(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="cSuUTwWiorstq")
    read_only = has_option(options, "-R", "-M") or cmd.name == "view"
    for arg in operands:
        if (arg.value or "").startswith("+"):
            continue
        if read_only:
            cmd.read(arg)
        else:
            cmd.write(arg)
    return None


def _truncate(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="sr", long_values=frozenset({"--size", "--reference"})
    )
    for value in option_values(options, "-r", "--reference"):
        cmd.read(value)
    for arg in operands:
        cmd.write(arg)
    return None


def _shred(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="ns", long_values=frozenset({"--iterations", "--size"})
    )
    for arg in operands:
        cmd.write(arg)
        cmd.delete(arg)
    return None


def _delete(short_values: str = "") -> Handler:
    def handler(cmd: Cmd) -> Stream | None:
        _, operands = split_options(cmd.args, short_values=short_values)
        for arg in operands:
            cmd.delete(arg)
        return None

    return handler


def _is_dir_like(value: str | None) -> bool:
    if value is None:
        return False
    return value.endswith("/") or value in (".", "..", "~") or value.endswith(("/.", "/.."))


def _transfer(cmd: Cmd, *, move: bool, link: bool = False) -> Stream | None:
    options, operands = split_options(
        cmd.args,
        short_values="tS" + ("mog" if cmd.name == "install" else ""),
        long_values=frozenset({"--target-directory", "--suffix", "--mode", "--owner", "--group"}),
    )
    if cmd.name == "install" and has_option(options, "-d", "--directory"):
        for arg in operands:
            cmd.write(arg)
        return None
    targets = option_values(options, "-t", "--target-directory")
    no_target_dir = has_option(options, "-T", "--no-target-directory")
    symbolic = link and has_option(options, "-s", "--symbolic")
    if targets:
        dest_dir: Arg | None = targets[-1]
        sources = operands
        dest: Arg | None = None
    elif link and len(operands) == 1:
        dest_dir, sources, dest = Arg(".", "."), operands, None
    elif len(operands) >= 2:
        sources, last = operands[:-1], operands[-1]
        as_dir = not no_target_dir and (len(sources) > 1 or _is_dir_like(last.value))
        dest_dir, dest = (last, None) if as_dir else (None, last)
    else:
        for arg in operands:  # a lone operand: at least say what it names
            cmd.read(arg)
        return None
    for source in sources:
        if dest is not None:
            target = cmd.path(dest)
        elif dest_dir is not None and dest_dir.value is not None and source.value is not None:
            base = posixpath.basename(source.value.rstrip("/")) or source.value
            target = cmd.path(posixpath.join(dest_dir.value, base))
        else:
            target = None
        if symbolic:
            cmd.file_effect("write", target)
            continue
        source_path = cmd.read(source)
        if move:
            cmd.delete(source)
        cmd.file_effect("write", target)
        cmd.copy(source_path, target)
    return None


def _cp(cmd: Cmd) -> Stream | None:
    return _transfer(cmd, move=False)


def _mv(cmd: Cmd) -> Stream | None:
    return _transfer(cmd, move=True)


def _ln(cmd: Cmd) -> Stream | None:
    return _transfer(cmd, move=False, link=True)


def _permission(cmd: Cmd) -> Stream | None:
    args = cmd.args
    recursive = False
    reference = False
    rest: list[Arg] = []
    mode_seen = False
    for arg in args:
        value = arg.value or ""
        if value in ("-R", "--recursive"):
            recursive = True
        elif value.startswith("--reference"):
            reference = True
            if "=" in value:
                cmd.read(value.split("=", 1)[1])
        elif value in (
            "-v",
            "-c",
            "-f",
            "-h",
            "-V",
            "--verbose",
            "--changes",
            "--silent",
            "--quiet",
            "--no-dereference",
            "--dereference",
            "-H",
            "-L",
            "-P",
            "--",
        ):
            continue
        elif (
            cmd.name == "chmod"
            and value[:1] == "-"
            and all(c in "rwxXstugoa" for c in value[1:])
            and not mode_seen
        ):
            mode_seen = True  # `chmod -x file` is a mode, not an option
        elif cmd.name == "chattr" and value[:1] in "+-=" and len(value) > 1:
            mode_seen = True
        elif cmd.name == "setfacl" and value in (
            "-m",
            "-x",
            "-M",
            "-X",
            "--modify",
            "--remove",
            "--set",
        ):
            mode_seen = True
            rest.append(Arg("\x00skip", arg.raw))  # the next argument is the ACL spec
        elif value.startswith("-") and len(value) > 1 and not mode_seen and cmd.name != "chattr":
            if "R" in value[1:] and value[1:].isalpha():
                recursive = True
        else:
            rest.append(arg)
    operands: list[Arg] = []
    skip = False
    for arg in rest:
        if arg.value == "\x00skip":
            skip = True
            continue
        if skip:
            skip = False
            continue
        operands.append(arg)
    if cmd.name in ("chmod", "chown", "chgrp") and not reference and not mode_seen and operands:
        operands = operands[1:]  # the mode or owner
    if cmd.name == "setfacl" and not mode_seen and operands:
        operands = operands[1:]
    for arg in operands:
        path = cmd.file_effect("permission", arg)
        if recursive and path is not None:
            cmd.file_effect("permission", path.rstrip("/") + "/**")
    return None


def _mkfs(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="tbLNOqcCgGiIjJlmMoOrTUEv")
    for arg in operands[:1] or operands:
        cmd.write(arg)
    return None


def _sort(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args,
        short_values="kotTS",
        long_values=frozenset({"--output", "--key", "--field-separator"}),
    )
    for value in option_values(options, "-o", "--output"):
        cmd.write(value)
    for arg in operands:
        if arg.value != "-":
            cmd.read(arg)
    return None


def _uniq(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="fsw")
    if operands:
        cmd.read(operands[0])
    if len(operands) > 1:
        cmd.write(operands[1])
    return None


def _patch(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="iopdBDFrVYzg", long_values=frozenset({"--input", "--output"})
    )
    for value in option_values(options, "-i", "--input"):
        cmd.read(value)
    if has_option(options, "--dry-run"):
        return None
    outputs = option_values(options, "-o", "--output")
    for value in outputs:
        cmd.write(value)
    if operands:
        cmd.write(operands[0])
        if len(operands) > 1:
            cmd.read(operands[1])
    elif not outputs:
        cmd.file_effect("write", None)  # the diff names the files
    return None


_ARCHIVE_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z", ".lzma", ".tgz")


def _compress(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="S", long_values=frozenset({"--suffix"})
    )
    decompress = (
        has_option(options, "-d", "--decompress", "--uncompress")
        or cmd.name.startswith("un")
        or cmd.name == "gunzip"
    )
    to_stdout = has_option(options, "-c", "--stdout", "--to-stdout", "-t", "--test", "-l", "--list")
    keep = has_option(options, "-k", "--keep")
    files = [a for a in operands if a.value != "-"]
    for arg in files:
        path = cmd.read(arg)
        if to_stdout:
            continue
        if path is None:
            cmd.file_effect("write", None)
        elif decompress:
            stripped = next(
                (path[: -len(s)] for s in _ARCHIVE_SUFFIXES if path.endswith(s)), path + ".out"
            )
            cmd.file_effect("write", stripped)
        else:
            cmd.file_effect("write", path + (".gz" if "gz" in cmd.name else ".z"))
        if not keep and not to_stdout:
            cmd.delete(arg)
    if not files or to_stdout:
        stdin = cmd.stdin
        return Stream(
            sources=tuple(dict.fromkeys([*cmd.reads, *stdin.sources])),
            hosts=stdin.hosts,
            unknown=True,
        )
    return Stream(text="")


def _tar(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    if args and args[0].value and not args[0].value.startswith("-"):
        letters = args[0].value
        args[0] = Arg("-" + letters, args[0].raw)  # `tar czf x.tgz dir` is `tar -czf`
    options, operands = split_options(
        args,
        short_values="fCTXbHKNgLV",
        long_values=frozenset(
            {"--file", "--directory", "--files-from", "--exclude-from", "--exclude", "--transform"}
        ),
    )
    names = {name for name, _ in options}
    create = bool(names & {"-c", "--create", "-r", "--append", "-u", "--update"})
    extract = bool(names & {"-x", "--extract", "--get"})
    archives = option_values(options, "-f", "--file")
    archive = archives[-1] if archives else None
    directories = option_values(options, "-C", "--directory")
    base = directories[-1].value if directories else "."
    base_dir = cmd.path(base) if directories else cmd.path(".")
    for value in option_values(options, "-T", "--files-from", "-X", "--exclude-from"):
        cmd.read(value)
    to_stdout = archive is None or archive.value == "-"
    if create:
        reads: list[str] = []
        for arg in operands:
            member = arg.value
            full = (
                None
                if member is None
                else (
                    member
                    if member.startswith(("/", "~")) or base_dir is None
                    else posixpath.join(base_dir, member)
                )
            )
            path = cmd.read(full)
            if path is not None:
                reads.append(path)
        if to_stdout:
            return Stream(sources=tuple(reads), unknown=True)
        dest = cmd.write(archive)
        for source in reads:
            cmd.copy(source, dest)
        return Stream(text="")
    if extract:
        sources: tuple[str, ...] = ()
        if to_stdout or archive is None:
            sources = cmd.stdin.sources
        else:
            archive_path = cmd.read(archive)
            sources = (archive_path,) if archive_path else ()
        if has_option(options, "-O", "--to-stdout"):
            return Stream(sources=sources, unknown=True)
        if base_dir is None:
            dest_paths: list[str | None] = [None]
        elif operands:
            dest_paths = [
                cmd.path(posixpath.join(base_dir, a.value)) if a.value else None for a in operands
            ]
        else:
            dest_paths = [base_dir.rstrip("/") + "/**"]
        for dest in dest_paths:
            cmd.file_effect("write", dest)
            for source in sources:
                cmd.copy(source, dest)
        return Stream(text="")
    if archive is not None and archive.value != "-":
        cmd.read(archive)
    return None


def _zip(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="bntxiPZO", long_values=frozenset({"--exclude", "--include"})
    )
    if not operands:
        return None
    archive, files = operands[0], operands[1:]
    value = archive.value
    if value is not None and not value.endswith(".zip") and "." not in posixpath.basename(value):
        value += ".zip"
    dest = cmd.write(value if archive.value is not None else None)
    for arg in files:
        source = cmd.read(arg)
        cmd.copy(source, dest)
    return None


def _unzip(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="dxP", long_values=frozenset())
    if not operands:
        return None
    source = cmd.read(operands[0])
    if has_option(options, "-l", "-t", "-v", "-Z"):
        return None
    if has_option(options, "-p", "-c"):
        return Stream(sources=(source,) if source else (), unknown=True)
    dirs = option_values(options, "-d")
    base = cmd.path(dirs[-1]) if dirs else cmd.path(".")
    if operands[1:] and base is not None:
        targets = [
            cmd.path(posixpath.join(base, a.value)) if a.value else None for a in operands[1:]
        ]
    else:
        targets = [base.rstrip("/") + "/**" if base else None]
    for target in targets:
        cmd.file_effect("write", target)
        cmd.copy(source, target)
    return None


def _seven_zip(cmd: Cmd) -> Stream | None:
    if not cmd.args or cmd.args[0].value is None:
        return None
    verb = cmd.args[0].value
    _, operands = split_options(cmd.args[1:])
    if verb in ("a", "u") and operands:
        dest = cmd.write(operands[0])
        for arg in operands[1:]:
            cmd.copy(cmd.read(arg), dest)
    elif verb in ("x", "e") and operands:
        source = cmd.read(operands[0])
        out = next((a.value[2:] for a in cmd.args if a.value and a.value.startswith("-o")), ".")
        target = cmd.path(out)
        dest = target.rstrip("/") + "/**" if target else None
        cmd.file_effect("write", dest)
        cmd.copy(source, dest)
    elif verb == "d" and operands:
        cmd.write(operands[0])
    elif operands:
        cmd.read(operands[0])
    return None


def _mkdir(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="mZ", long_values=frozenset({"--mode"}))
    for arg in operands:
        cmd.write(arg)
    return None


def _yq(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="pIo", long_values=frozenset())
    in_place = has_option(options, "-i", "--inplace")
    for arg in operands[1:]:
        cmd.read(arg)
        if in_place:
            cmd.write(arg)
    return None


def _jq(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="fL", long_values=frozenset({"--from-file", "--indent", "--tab"})
    )
    skip = 0 if has_option(options, "-f", "--from-file") else 1
    for value in option_values(options, "-f", "--from-file"):
        cmd.read(value)
    for arg in operands[skip:]:
        cmd.read(arg)
    return None


def _source(cmd: Cmd) -> Stream | None:
    if cmd.args:
        cmd.read(cmd.args[0])
    return None


FILE_HANDLERS: dict[str, Handler] = {name: _reader for name in _READERS}
FILE_HANDLERS.update(
    {
        "cat": _cat,
        "grep": _grep,
        "egrep": _grep,
        "fgrep": _grep,
        "zgrep": _grep,
        "rg": _rg,
        "ag": _rg,
        "ack": _rg,
        "awk": _awk,
        "gawk": _awk,
        "mawk": _awk,
        "nawk": _awk,
        "sed": _sed,
        "gsed": _sed,
        "tee": _tee,
        "dd": _dd,
        "touch": _writer("dtr", frozenset({"--date", "--reference"})),
        "truncate": _truncate,
        "shred": _shred,
        "mkdir": _mkdir,
        "rm": _delete(),
        "rmdir": _delete(),
        "unlink": _delete(),
        "srm": _delete(),
        "trash": _delete(),
        "trash-put": _delete(),
        "cp": _cp,
        "install": _cp,
        "mv": _mv,
        "ln": _ln,
        "chmod": _permission,
        "chown": _permission,
        "chgrp": _permission,
        "chattr": _permission,
        "setfacl": _permission,
        "vim": _editor,
        "vi": _editor,
        "nvim": _editor,
        "nano": _editor,
        "pico": _editor,
        "emacs": _editor,
        "ed": _editor,
        "ex": _editor,
        "micro": _editor,
        "joe": _editor,
        "kak": _editor,
        "mcedit": _editor,
        "view": _editor,
        "code": _editor,
        "gedit": _editor,
        "subl": _editor,
        "sort": _sort,
        "uniq": _uniq,
        "patch": _patch,
        "gzip": _compress,
        "gunzip": _compress,
        "bzip2": _compress,
        "bunzip2": _compress,
        "xz": _compress,
        "unxz": _compress,
        "zstd": _compress,
        "unzstd": _compress,
        "lz4": _compress,
        "compress": _compress,
        "pigz": _compress,
        "tar": _tar,
        "bsdtar": _tar,
        "zip": _zip,
        "unzip": _unzip,
        "7z": _seven_zip,
        "7za": _seven_zip,
        "7zz": _seven_zip,
        "mkswap": _mkfs,
        "wipefs": _mkfs,
        "fdisk": _mkfs,
        "sfdisk": _mkfs,
        "parted": _mkfs,
        "blkdiscard": _mkfs,
        "mkfs": _mkfs,
        "yq": _yq,
        "jq": _jq,
        "source": _source,
        ".": _source,
    }
)
for _fs in (
    "ext2",
    "ext3",
    "ext4",
    "xfs",
    "btrfs",
    "vfat",
    "fat",
    "msdos",
    "ntfs",
    "exfat",
    "f2fs",
    "minix",
    "cramfs",
):
    FILE_HANDLERS[f"mkfs.{_fs}"] = _mkfs
