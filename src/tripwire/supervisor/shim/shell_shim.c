/*
 * tripwire's shell shim for supervised runs (`tripwire guard run`).
 *
 * Mounted over the sandbox's `bash` and `dash` (so `bash`, `sh`, `/bin/sh`, `$SHELL`,
 * `os.system` and `subprocess(shell=True)` all reach it), it sends the shell's argv and
 * working directory to the supervisor over a unix socket in a read-only mount, and
 * waits for the verdict: "A" runs the real shell (kept at /opt/tripwire/real/<name>),
 * "D reason" refuses with exit code 126, "K reason" refuses and the supervisor stops
 * the whole run. After the shell exits the shim reports its status and waits for the
 * supervisor's integrity check, so a change to a protected file is charged to this
 * command.
 *
 * A shell that reads its commands from stdin (a terminal, or a pipe kept open by an
 * agent's persistent session) is a *session*: the real bash runs with tripwire's rc
 * file, whose DEBUG trap (with extdebug) asks the supervisor before every command;
 * a refusal skips the command. The question is asked by this same binary mounted as
 * /opt/tripwire/bin/tripwire-check: `tripwire-check COMMAND` exits 0 (allowed) or 1.
 *
 * Fails closed: no supervisor, a broken reply, or a request too large to send means the
 * command does not run. Paths are fixed at compile time; nothing in the environment
 * changes where the shim connects or what it runs.
 *
 * Wire format (both directions on one SOCK_STREAM connection):
 *   request:  "TWS1" u32 n, then n fields of (u32 length, bytes); little-endian.
 *             fields: shell name, cwd, pid, mode ("" | "session" | "line"),
 *             the command line (for "line" only), argv[1..]
 *   verdict:  one line "A\n", "D <reason>\n" or "K <reason>\n"
 *   done:     "E <status>\n" (status: exit code, or 128+signal); the supervisor answers
 *             one line when its after-command checks are done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TW_SOCKET
#define TW_SOCKET "/run/tripwire/guard.sock"
#endif
#ifndef TW_REAL_DIR
#define TW_REAL_DIR "/opt/tripwire/real/"
#endif
#ifndef TW_CHECK
#define TW_CHECK "/opt/tripwire/bin/tripwire-check"
#endif
#ifndef TW_RCFILE
#define TW_RCFILE "/opt/tripwire/guard.bashrc"
#endif
#define REFUSED 126

static int sock = -1;
static pid_t child = -1;

static void die(const char *what) {
    fprintf(stderr, "tripwire guard: %s; the command was not run\n", what);
    _exit(REFUSED);
}

static void put_all(const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(sock, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("the supervisor hung up");
        p += n;
        len -= (size_t)n;
    }
}

/* The request is built in memory and sent with one call: one wake-up of the
   supervisor instead of one per field. */
static char *req = NULL;
static size_t req_len = 0, req_cap = 0;

static void put_bytes(const void *data, size_t len) {
    if (req_len + len > req_cap) {
        size_t cap = req_cap ? req_cap : 4096;
        while (cap < req_len + len) cap *= 2;
        char *grown = realloc(req, cap);
        if (!grown) die("out of memory");
        req = grown;
        req_cap = cap;
    }
    memcpy(req + req_len, data, len);
    req_len += len;
}

static void put_field(const char *data, size_t len) {
    uint32_t n = (uint32_t)len;
    put_bytes(&n, 4);
    if (len) put_bytes(data, len);
}

/* One reply line into buf (NUL-terminated, newline dropped); -1 if the link broke.
   The supervisor sends nothing after a line until we speak again, so reading a whole
   buffer never takes bytes of the next reply. */
static int get_line(char *buf, size_t size) {
    size_t used = 0;
    for (;;) {
        char *end = memchr(buf, '\n', used);
        if (end) {
            *end = '\0';
            return 0;
        }
        if (used + 1 >= size) return -1;
        ssize_t n = recv(sock, buf + used, size - 1 - used, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        used += (size_t)n;
    }
}

/* Whether the shell's commands come from -c (0), or from stdin or a script file (1):
   those it reads as it goes, so they are checked one by one (a session). Among the
   options -c wins over -s wherever it stands; the first operand ends the options, as in
   bash and dash (`bash x.sh -c y` runs x.sh with the arguments `-c y`). */
static int is_session(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0 || strcmp(a, "-") == 0) break;
        if (a[0] == '-' && a[1] == '-') {
            if (strcmp(a, "--rcfile") == 0 || strcmp(a, "--init-file") == 0) i++;
            continue;
        }
        if ((a[0] == '-' || a[0] == '+') && a[1]) {
            int takes = 0;
            for (const char *c = a + 1; *c; c++) {
                if (*c == 'c') return 0;
                if (*c == 'o' || *c == 'O') takes++;
            }
            i += takes;
            continue;
        }
        return 1; /* a script file: what follows are its arguments */
    }
    return 1;
}

/* Variables that make the real shell run code the guard never saw: start-up files,
   exported functions, options that expand prompts. */
static int unsafe_variable(const char *entry) {
    static const char *names[] = {"BASH_ENV=", "ENV=", "SHELLOPTS=", "BASHOPTS=", "PS4=",
                                  "PROMPT_COMMAND=", "BASH_XTRACEFD=", "TW_POSIX=", NULL};
    for (const char **n = names; *n; n++)
        if (strncmp(entry, *n, strlen(*n)) == 0) return 1;
    return strncmp(entry, "BASH_FUNC_", 10) == 0;
}

extern char **environ;

static void clean_environment(void) {
    size_t kept = 0;
    for (char **e = environ; *e; e++)
        if (!unsafe_variable(*e)) environ[kept++] = *e;
    environ[kept] = NULL;
}

static void forward(int sig) {
    if (child > 0) kill(child, sig);
}

int main(int argc, char **argv) {
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) die("cannot tell which shell this is (/proc/self/exe)");
    exe[len] = '\0';
    const char *name = strrchr(exe, '/');
    name = name ? name + 1 : exe;
    char real[PATH_MAX + 64];
    snprintf(real, sizeof real, "%s%s", TW_REAL_DIR, name);

    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");

    int check = strcmp(name, "tripwire-check") == 0;
    const char *mode = check ? "line" : is_session(argc, argv) ? "session" : "";
    const char *line = check && argc > 1 ? argv[1] : "";

    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) die("cannot open a socket to the supervisor");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, TW_SOCKET, sizeof addr.sun_path - 1);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("the supervisor is not reachable (" TW_SOCKET ")");

    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)(check ? getppid() : getpid()));
    uint32_t fields = (uint32_t)(5 + (!check && argc > 1 ? argc - 1 : 0));
    put_bytes("TWS1", 4);
    put_bytes(&fields, 4);
    put_field(name, strlen(name));
    put_field(cwd, strlen(cwd));
    put_field(pid, strlen(pid));
    put_field(mode, strlen(mode));
    put_field(line, strlen(line));
    for (int i = 1; !check && i < argc; i++) put_field(argv[i], strlen(argv[i]));
    put_all(req, req_len);
    free(req);

    char reply[4096];
    if (get_line(reply, sizeof reply) < 0) die("the supervisor gave no verdict");
    if (reply[0] == 'D' || reply[0] == 'K') {
        fprintf(stderr, "tripwire guard: %s\n", reply[1] ? reply + 2 : "refused");
        _exit(check ? 1 : REFUSED);
    }
    /* "S": allowed, but only command by command (the command sources a file). */
    if (strcmp(reply, "A") != 0 && strcmp(reply, "S") != 0)
        die("the supervisor's verdict is unreadable");
    if (check) return 0;
    clean_environment();

    if (*mode || reply[0] == 'S') {
        /* A session: the real bash (POSIX mode when it stands in for sh) with the rc
           file that checks every command; its own start-up files are not read. */
        setenv("BASH_ENV", TW_RCFILE, 1);
        setenv("ENV", TW_RCFILE, 1);
        char **args = calloc((size_t)argc + 4, sizeof *args);
        if (!args) die("out of memory");
        int n = 0;
        /* Invoked as sh, bash would skip BASH_ENV; it starts as bash and the rc file
           switches to POSIX mode. */
        if (strcmp(name, "bash") != 0) setenv("TW_POSIX", "1", 1);
        args[n++] = strcmp(name, "bash") != 0 ? "bash" : argv[0];
        args[n++] = "--rcfile";
        args[n++] = TW_RCFILE;
        for (int i = 1; i < argc; i++) {
            /* --norc would drop the check; another rc file would run unchecked. */
            if (strcmp(argv[i], "--norc") == 0) continue;
            if (strcmp(argv[i], "--rcfile") == 0 || strcmp(argv[i], "--init-file") == 0) {
                i++;
                continue;
            }
            args[n++] = argv[i];
        }
        args[n] = NULL;
        execv(TW_REAL_DIR "bash", args);
        fprintf(stderr, "tripwire guard: cannot run the real bash: %s\n", strerror(errno));
        _exit(127);
    }

    /* Like system(): the terminal's interrupt goes to the shell, not to us. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTERM, forward);
    signal(SIGHUP, forward);
    child = fork();
    if (child < 0) die("cannot fork");
    if (child == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        /* Another rc file would run unchecked (an interactive `-i -c` reads one). */
        char **args = calloc((size_t)argc + 1, sizeof *args);
        if (!args) _exit(REFUSED);
        int n = 0;
        for (int i = 0; i < argc; i++) {
            if (i > 0 && (strcmp(argv[i], "--rcfile") == 0 || strcmp(argv[i], "--init-file") == 0)) {
                i++;
                continue;
            }
            args[n++] = argv[i];
        }
        execv(real, args);
        fprintf(stderr, "tripwire guard: cannot run %s: %s\n", real, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            status = REFUSED << 8;
            break;
        }
    }
    int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    char done[32];
    int n = snprintf(done, sizeof done, "E %d\n", code);
    if (send(sock, done, (size_t)n, MSG_NOSIGNAL) == n) get_line(reply, sizeof reply);
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        kill(getpid(), WTERMSIG(status));
    }
    return code;
}
