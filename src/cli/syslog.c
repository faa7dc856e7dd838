/*
 * syslog.c - warnings to syslog as RFC 5424 messages, for `kasa watch
 * --syslog`.  glibc's syslog(3) writes the older BSD format (RFC 3164),
 * without structured data or a precise timestamp; this writes RFC 5424
 * itself, over a datagram socket: the local syslog daemon (/dev/log), a
 * UNIX socket, or UDP (RFC 5426).  What a warning says is cmd_watch.c's
 * business.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

struct kasa_cli_syslog {
    int fd;
    char host[256];
    long pid;
    unsigned long failed;
};

kasa_cli_syslog *kasa_cli_syslog_open(const char *target)
{
    kasa_cli_syslog *s = calloc(1, sizeof(*s));
    int fd = -1;

    if (!s)
        return NULL;
    if (strcmp(target, "local") == 0 || strncmp(target, "unix:", 5) == 0) {
        struct sockaddr_un sun;
        const char *path = target[0] == 'l' ? "/dev/log" : target + 5;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sun.sun_path)) {
            fprintf(stderr, "kasa: error: syslog socket path too long: %s\n",
                    path);
            free(s);
            return NULL;
        }
        strcpy(sun.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
            fprintf(stderr, "kasa: error: syslog %s: %s\n", path,
                    strerror(errno));
            close(fd);
            fd = -1;
        }
    } else if (strncmp(target, "udp:", 4) == 0) {
        char host[256];
        const char *port = strrchr(target + 4, ':');
        struct addrinfo hints, *ai = NULL, *a;
        int rc;
        if (!port || (size_t)(port - (target + 4)) >= sizeof(host)) {
            fprintf(stderr, "kasa: error: --syslog udp:HOST:PORT, not %s\n",
                    target);
            free(s);
            return NULL;
        }
        memcpy(host, target + 4, (size_t)(port - (target + 4)));
        host[port - (target + 4)] = '\0';
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = '\0';
        }
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_DGRAM;
        rc = getaddrinfo(host, port + 1, &hints, &ai);
        if (rc != 0)
            fprintf(stderr, "kasa: error: syslog %s: %s\n", target,
                    gai_strerror(rc));
        for (a = ai; a && fd < 0; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                        a->ai_protocol);
            if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
                close(fd);
                fd = -1;
            }
        }
        if (ai)
            freeaddrinfo(ai);
    } else {
        fprintf(stderr,
                "kasa: error: --syslog takes local, unix:PATH or "
                "udp:HOST:PORT, not '%s'\n",
                target);
    }
    if (fd < 0) {
        free(s);
        return NULL;
    }
    s->fd = fd;
    if (gethostname(s->host, sizeof(s->host)) != 0 || !s->host[0])
        strcpy(s->host, "-");
    s->host[sizeof(s->host) - 1] = '\0';
    s->pid = (long)getpid();
    return s;
}

void kasa_cli_syslog_close(kasa_cli_syslog *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s);
}

unsigned long kasa_cli_syslog_failed(const kasa_cli_syslog *s)
{
    return s ? s->failed : 0;
}

/* An SD-PARAM value: '"', '\' and ']' escaped (RFC 5424, 6.3.3). */
static size_t param(char *out, size_t room, const char *v)
{
    size_t n = 0;

    for (; *v && n + 2 < room; v++) {
        if (*v == '"' || *v == '\\' || *v == ']')
            out[n++] = '\\';
        out[n++] = *v;
    }
    out[n] = '\0';
    return n;
}

void kasa_cli_syslog_send(kasa_cli_syslog *s, const char *time,
                          const char *indicator, const char *source,
                          const char *msg)
{
    /* facility local0 (16), severity warning (4) */
    char head[1024], ind[300], src[120];
    size_t hn, mn = strlen(msg);
    char *buf;

    param(ind, sizeof(ind), indicator);
    param(src, sizeof(src), source);
    hn = (size_t)snprintf(head, sizeof(head),
                          "<132>1 %s %s kasa %ld warning "
                          "[kasa@32473 indicator=\"%s\" source=\"%s\"] ",
                          time, s->host, s->pid, ind, src);
    if (hn >= sizeof(head))
        hn = sizeof(head) - 1;
    buf = malloc(hn + mn);
    if (!buf) {
        s->failed++;
        return;
    }
    memcpy(buf, head, hn);
    memcpy(buf + hn, msg, mn);
    if (send(s->fd, buf, hn + mn, MSG_NOSIGNAL) < 0)
        s->failed++;
    free(buf);
}
