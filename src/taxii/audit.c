/*
 * audit.c - the audit trail: a file of JSON lines, opened O_APPEND and
 * never rewritten.  Each line ends with "prev", the SHA-256 of the line
 * before it (of "" for the first), so that a line removed or altered
 * anywhere shows: `kasa audit --verify` walks the chain.  Lines are
 * written whole with one write(2) under a lock; fdatasync runs once a
 * second (kasa__audit_sync) rather than per request, so a power cut can
 * lose the last second of the trail but never leaves half a line in the
 * middle of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kasa/stix.h"
#include "kasa/store.h"
#include "kasa/taxii.h"
#include "taxii/taxii_int.h"

struct kasa__audit {
    int fd;
    pthread_mutex_t lock;
    char prev[65]; /* hex SHA-256 of the last line, without its newline */
    bool dirty;
};

void kasa_audit_digest(const char *line, size_t len, char out[65])
{
    kasa__sha256_hex(line, len, out);
}

/* The digest of the file's last line, to go on from (reads the tail). */
static kasa_err chain_from_tail(kasa__audit *a, const char *path,
                                kasa_diag *diag)
{
    struct stat st;
    char *tail;
    off_t from;
    ssize_t n;
    size_t end, start;

    kasa_audit_digest("", 0, a->prev);
    if (fstat(a->fd, &st) != 0 || st.st_size == 0)
        return KASA_OK;
    /* a line names at most a page of objects: 4 MiB is plenty */
    from = st.st_size > (4 << 20) ? st.st_size - (4 << 20) : 0;
    tail = malloc((size_t)(st.st_size - from) + 1);
    if (tail == NULL)
        return KASA_ENOMEM;
    n = pread(a->fd, tail, (size_t)(st.st_size - from), from);
    if (n <= 0) {
        free(tail);
        return kasa__diag_at(diag, KASA_EIO, NULL, 0, 0, 0,
                             "cannot read %s: %s", path, strerror(errno));
    }
    end = (size_t)n;
    if (tail[end - 1] != '\n') {
        free(tail);
        return kasa__diag_at(diag, KASA_EDATA, NULL, 0, 0, 0,
                             "%s ends in the middle of a line; kasa audit "
                             "--verify says where",
                             path);
    }
    end--;
    start = end;
    while (start > 0 && tail[start - 1] != '\n')
        start--;
    kasa_audit_digest(tail + start, end - start, a->prev);
    free(tail);
    return KASA_OK;
}

kasa_err kasa__audit_open(const char *path, kasa__audit **out,
                          kasa_diag *diag)
{
    kasa__audit *a = calloc(1, sizeof(*a));
    kasa_err err;

    *out = NULL;
    if (a == NULL)
        return KASA_ENOMEM;
    a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd >= 0) {
        int rfd = open(path, O_RDONLY | O_CLOEXEC);

        if (rfd < 0) {
            close(a->fd);
            a->fd = -1;
        } else {
            int wfd = a->fd;

            a->fd = rfd;
            err = chain_from_tail(a, path, diag);
            close(rfd);
            a->fd = wfd;
            if (err != KASA_OK) {
                close(a->fd);
                free(a);
                return err;
            }
        }
    }
    if (a->fd < 0) {
        int e = errno;

        free(a);
        return kasa__diag_at(diag, KASA_EIO, NULL, 0, 0, 0,
                             "cannot open %s: %s", path, strerror(e));
    }
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    return KASA_OK;
}

kasa_err kasa__audit_write(kasa__audit *a, const char *fields, size_t len)
{
    kasa__buf b = {0};
    char when[32];
    kasa_err err = KASA_OK;
    size_t line_len;
    char *line;

    if (a == NULL)
        return KASA_OK;
    kasa_stix_time_format_us(kasa_now_us(), when);
    pthread_mutex_lock(&a->lock);
    kasa__buf_printf(&b, "{\"time\":\"%s\",", when);
    kasa__buf_put(&b, fields, len);
    kasa__buf_printf(&b, ",\"prev\":\"%s\"}", a->prev);
    line = kasa__buf_take(&b, &line_len);
    if (line == NULL) {
        pthread_mutex_unlock(&a->lock);
        return KASA_ENOMEM;
    }
    kasa_audit_digest(line, line_len, a->prev);
    line[line_len] = '\n'; /* the buffer always holds one byte more */
    {
        const char *p = line;
        size_t left = line_len + 1;

        while (left > 0) {
            ssize_t n = write(a->fd, p, left);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                err = KASA_EIO;
                break;
            }
            p += n;
            left -= (size_t)n;
        }
    }
    a->dirty = true;
    pthread_mutex_unlock(&a->lock);
    free(line);
    return err;
}

void kasa__audit_sync(kasa__audit *a)
{
    bool dirty;

    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    dirty = a->dirty;
    a->dirty = false;
    pthread_mutex_unlock(&a->lock);
    if (dirty)
        fdatasync(a->fd);
}

void kasa__audit_close(kasa__audit *a)
{
    if (a == NULL)
        return;
    kasa__audit_sync(a);
    close(a->fd);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
