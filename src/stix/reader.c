/*
 * reader.c - STIX objects out of files of any size, in bounded memory.  A
 * bundle is streamed: a small scanner finds where each element of its
 * "objects" array begins and ends (it knows strings, escapes and nesting,
 * nothing more), and only that element is parsed (kasa__json_loadb:
 * jansson's tree, built faster).  So memory is bounded by the largest
 * single object, not by the file, and one malformed object does not stop
 * the rest.  The same scanner reads JSON lines (or any concatenation of
 * objects), a MISP event, and the events of a MISP feed.  What makes an
 * object valid is validate.c's business.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/json.h"
#include "kasa/stix.h"

#define READ_CHUNK (256u * 1024)
#define MAX_KEY                                                                \
    256 /* longer member names of a top-level object are kept                  \
           whole, not looked at */

typedef enum state {
    ST_START,   /* before a top-level value */
    ST_OBJECTS, /* inside a bundle's "objects" array */
    ST_MEMBERS, /* inside a bundle, after its "objects" array */
    ST_QUEUE,   /* handing out objects already in memory */
    ST_FEED,    /* between the events of a MISP feed */
    ST_DONE,
    ST_BROKEN /* the stream cannot be followed any more */
} state;

struct kasa_stix_reader {
    int fd;
    uint64_t size;
    char *buf;
    size_t cap, start, end; /* unread bytes are buf[start, end) */
    uint64_t base;          /* input offset of buf[0] */
    bool eof;
    size_t max_object;
    state st;
    bool need_comma; /* an element of "objects" came before */
    bool bare_array; /* the objects are a top-level array, not a bundle */
    size_t index;    /* objects handed out or rejected so far */
    kasa_stix_input input;
    char bundle_version[16];
    json_t *queue; /* objects already in memory (MISP, whole bundles) */
    size_t queue_pos;
    state after_queue;
    bool anchored; /* keep the input from `anchor` on in the window */
    uint64_t anchor;
    uint64_t last_offset; /* where the last object handed out began */
    const char *out_raw;  /* the bytes of the object handed out last */
    size_t out_raw_len;
    char *raw; /* compact text of the last queued object */
    kasa_misp_report misp;
    char *feed_dir;     /* MISP feed: the directory */
    json_t *feed_uuids; /* its event uuids, sorted */
    size_t feed_pos;
};

/* -- errors ---------------------------------------------------------------- */

static kasa_err fail(kasa_stix_reader *r, kasa_stix_diag *d, kasa_err code,
                     uint64_t offset, bool fatal, const char *fmt, ...)
    KASA__PRINTF(6, 7);

static kasa_err fail(kasa_stix_reader *r, kasa_stix_diag *d, kasa_err code,
                     uint64_t offset, bool fatal, const char *fmt, ...)
{
    va_list ap;

    if (fatal)
        r->st = ST_BROKEN;
    if (d == NULL)
        return code;
    memset(d, 0, sizeof(*d));
    d->code = code;
    d->index = r->index;
    d->offset = offset;
    snprintf(d->rule, sizeof(d->rule), "%s",
             code == KASA_ELIMIT  ? "size"
             : code == KASA_EJSON ? "json"
             : code == KASA_EIO   ? "io"
                                  : "input");
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof(d->message), fmt, ap);
    va_end(ap);
    return code;
}

/* -- the byte window ------------------------------------------------------- */

/* Read more input, keeping the unread bytes (and those from the anchor
 * on).  Returns KASA_OK (r->eof set when nothing more came), KASA_EIO or
 * KASA_ENOMEM. */
static kasa_err fill(kasa_stix_reader *r)
{
    size_t keep = r->start;
    ssize_t got;

    if (r->eof)
        return KASA_OK;
    if (r->anchored && r->anchor - r->base < keep)
        keep = (size_t)(r->anchor - r->base);
    if (keep > 0 && r->cap - r->end < READ_CHUNK) {
        memmove(r->buf, r->buf + keep, r->end - keep);
        r->base += keep;
        r->end -= keep;
        r->start -= keep;
    }
    if (r->cap - r->end < READ_CHUNK) {
        size_t ncap = r->cap ? r->cap * 2 : 4 * READ_CHUNK;
        char *nbuf = realloc(r->buf, ncap);

        if (nbuf == NULL)
            return KASA_ENOMEM;
        r->buf = nbuf;
        r->cap = ncap;
    }
    do
        got = read(r->fd, r->buf + r->end, r->cap - r->end);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return KASA_EIO;
    if (got == 0)
        r->eof = true;
    r->end += (size_t)got;
    return KASA_OK;
}

/* What was found where something else was expected, for messages. */
static const char *found(int c, char buf[16])
{
    if (c < 0)
        return "the end of the input";
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02x", (unsigned)c);
    return buf;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The next byte that is not white space (consumed only with `take`), or
 * -1 at the end of the input.  Errors in *err. */
static int peek(kasa_stix_reader *r, bool take, kasa_err *err)
{
    for (;;) {
        while (r->start < r->end && is_ws(r->buf[r->start]))
            r->start++;
        if (r->start < r->end)
            return (unsigned char)r->buf[take ? r->start++ : r->start];
        if (r->eof)
            return -1;
        *err = fill(r);
        if (*err != KASA_OK)
            return -1;
    }
}

typedef struct span {
    uint64_t begin; /* input offset of the value's first byte */
    size_t at;      /* offset in buf of the value's first byte */
    size_t len;
    bool too_big;
} span;

/*
 * Find the end of the JSON value that begins at buf[r->start]: a string,
 * an object or array (nesting and strings followed, nothing validated),
 * or a scalar up to the next delimiter.  Consumes it.  A value longer than
 * the limit is skipped without being kept (too_big), or, when the window
 * is anchored and cannot drop it, refused with KASA_ELIMIT.  Returns
 * KASA_OK, KASA_EJSON (the input ends inside the value), KASA_ELIMIT,
 * KASA_EIO, KASA_ENOMEM.
 */
static kasa_err scan_value(kasa_stix_reader *r, size_t limit, span *sp)
{
    size_t pos = r->start, depth = 0, dropped = 0;
    bool in_str = false, esc = false, scalar;
    char first = r->buf[r->start];
    kasa_err err;

    sp->too_big = false;
    sp->begin = r->base + r->start;
    scalar = first != '{' && first != '[' && first != '"';
    for (;;) {
        for (; pos < r->end; pos++) {
            char c = r->buf[pos];

            if (in_str) {
                if (esc)
                    esc = false;
                else if (c == '\\')
                    esc = true;
                else if (c == '"') {
                    in_str = false;
                    if (depth == 0) {
                        pos++;
                        goto done;
                    }
                }
            } else if (scalar) {
                if (is_ws(c) || c == ',' || c == ']' || c == '}' || c == '{' ||
                    c == '[' || c == '"' || c == ':')
                    goto done;
            } else if (c == '"') {
                in_str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    pos++;
                    goto done;
                }
            }
        }
        if (pos - r->start + dropped > limit) {
            if (r->anchored)
                return KASA_ELIMIT;
            /* too big to keep: go on scanning, dropping what was seen */
            sp->too_big = true;
            dropped += pos - r->start;
            r->start = pos;
        }
        if (r->eof) {
            if (scalar)
                goto done;
            return KASA_EJSON;
        }
        {
            size_t before = r->start;

            err = fill(r);
            if (err != KASA_OK)
                return err;
            pos -= before - r->start;
        }
    }
done:
    sp->at = r->start;
    sp->len = pos - r->start + dropped;
    if (pos - r->start + dropped > limit)
        sp->too_big = true;
    r->start = pos;
    return KASA_OK;
}

/* -- parsing what the scanner found ---------------------------------------- */

static kasa_err parse_span(kasa_stix_reader *r, const span *sp, json_t **out,
                           kasa_stix_diag *d)
{
    json_error_t jerr;
    uint64_t at = sp->begin; /* buf no longer holds a value too big */
    json_t *v;

    if (sp->too_big)
        return fail(r, d, KASA_ELIMIT, at, false,
                    "%zu bytes: larger than the %zu-byte limit for one "
                    "object",
                    sp->len, r->max_object);
    v = kasa__json_loadb(r->buf + sp->at, sp->len, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        return fail(r, d, KASA_EJSON, at + (uint64_t)jerr.position, false,
                    "invalid JSON: %s", jerr.text);
    *out = v;
    return KASA_OK;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* -- in-memory queue (MISP events, bundles read whole) --------------------- */

static kasa_err queue_objects(kasa_stix_reader *r, json_t *objs, state after)
{
    json_decref(r->queue);
    r->queue = objs;
    r->queue_pos = 0;
    r->after_queue = after;
    r->st = ST_QUEUE;
    return KASA_OK;
}

static kasa_err misp_convert(kasa_stix_reader *r, const json_t *event,
                             state after, kasa_stix_diag *d)
{
    json_t *objs = json_array();
    kasa_err err;

    if (objs == NULL)
        return KASA_ENOMEM;
    err = kasa_misp_event_to_stix(event, objs, &r->misp, d);
    if (err != KASA_OK) {
        json_decref(objs);
        if (d != NULL)
            d->index = r->index;
        return err;
    }
    return queue_objects(r, objs, after);
}

/* A whole top-level value has been read: decide what it is. */
static kasa_err top_value(kasa_stix_reader *r, json_t *v, json_t **obj,
                          uint64_t at, kasa_stix_diag *d)
{
    json_t *e;
    size_t i;

    if (json_is_object(v) && json_object_get(v, "type") == NULL &&
        json_is_object(json_object_get(v, "Event"))) {
        if (r->input == KASA_STIX_INPUT_UNKNOWN)
            r->input = KASA_STIX_INPUT_MISP_EVENT;
        return misp_convert(r, v, ST_START, d);
    }
    if (json_is_object(v) && json_object_get(v, "type") == NULL &&
        json_is_array(json_object_get(v, "response"))) {
        /* MISP's REST search answer: {"response": [{"Event": ...}, ...]} */
        json_t *all = json_array();
        kasa_err err = KASA_OK;

        if (all == NULL)
            return KASA_ENOMEM;
        if (r->input == KASA_STIX_INPUT_UNKNOWN)
            r->input = KASA_STIX_INPUT_MISP_EVENT;
        json_array_foreach(json_object_get(v, "response"), i, e)
        {
            err = kasa_misp_event_to_stix(e, all, &r->misp, d);
            if (err != KASA_OK)
                break;
        }
        if (err != KASA_OK) {
            json_decref(all);
            return err;
        }
        return queue_objects(r, all, ST_START);
    }
    if (json_is_object(v) && json_is_array(json_object_get(v, "objects")) &&
        json_string_value(json_object_get(v, "type")) != NULL &&
        strcmp(json_string_value(json_object_get(v, "type")), "bundle") == 0) {
        /* a bundle small enough to have been read whole (a later line of
         * JSON lines): hand out its objects */
        const char *sv = json_string_value(json_object_get(v, "spec_version"));

        if (sv != NULL)
            snprintf(r->bundle_version, sizeof(r->bundle_version), "%s", sv);
        if (r->input == KASA_STIX_INPUT_UNKNOWN)
            r->input = KASA_STIX_INPUT_BUNDLE;
        return queue_objects(r, json_incref(json_object_get(v, "objects")),
                             ST_START);
    }
    if (r->input == KASA_STIX_INPUT_UNKNOWN)
        r->input = KASA_STIX_INPUT_OBJECTS;
    if (!json_is_object(v))
        return fail(r, d, KASA_EDATA, at, false, "%s, not a JSON object",
                    json_kind(v));
    *obj = json_incref(v);
    return KASA_OK;
}

/*
 * A top-level object: read its members one by one, so that a bundle's
 * "objects" array is never held whole.  Anything else is kept whole in the
 * window (anchored at its '{', up to the object limit) and goes to
 * top_value.
 */
static kasa_err top_object(kasa_stix_reader *r, json_t **obj, kasa_stix_diag *d)
{
    uint64_t at = r->base + r->start; /* the '{' */
    char type[16] = "", fb[16];
    kasa_err err = KASA_OK;
    bool first = true;
    int c;

    r->anchored = true;
    r->anchor = at;
    r->last_offset = at;
    r->start++;
    for (;;) {
        span key, val;
        char name[MAX_KEY];

        c = peek(r, true, &err);
        if (err != KASA_OK)
            goto out;
        if (c == '}')
            break;
        if (!first) {
            if (c != ',')
                goto syntax;
            c = peek(r, true, &err);
            if (err != KASA_OK)
                goto out;
        }
        first = false;
        if (c != '"')
            goto syntax;
        r->start--;
        err = scan_value(r, MAX_KEY, &key);
        if (err != KASA_OK)
            goto scan_err;
        name[0] = '\0';
        if (!key.too_big && key.len >= 2 && key.len - 2 < sizeof(name)) {
            memcpy(name, r->buf + key.at + 1, key.len - 2);
            name[key.len - 2] = '\0';
        }
        c = peek(r, true, &err);
        if (err != KASA_OK)
            goto out;
        if (c != ':')
            goto syntax;
        c = peek(r, false, &err);
        if (err != KASA_OK)
            goto out;
        if (c < 0)
            goto truncated;
        if (strcmp(name, "objects") == 0 && c == '[' &&
            (type[0] == '\0' || strcmp(type, "bundle") == 0)) {
            /* a bundle: stream its objects from here on */
            r->start++;
            r->st = ST_OBJECTS;
            r->need_comma = false;
            if (r->input == KASA_STIX_INPUT_UNKNOWN)
                r->input = KASA_STIX_INPUT_BUNDLE;
            goto out;
        }
        err = scan_value(r, r->max_object, &val);
        if (err != KASA_OK)
            goto scan_err;
        if ((strcmp(name, "type") == 0 || strcmp(name, "spec_version") == 0) &&
            val.len >= 2 && val.len - 2 < sizeof(type) &&
            r->buf[val.at] == '"') {
            char *dst = name[0] == 't' ? type : r->bundle_version;

            memcpy(dst, r->buf + val.at + 1, val.len - 2);
            dst[val.len - 2] = '\0';
        }
        if (r->base + r->start - at > r->max_object)
            goto too_big;
    }
    if (strcmp(type, "bundle") != 0)
        r->bundle_version[0] = '\0';
    {
        span whole = {at, (size_t)(at - r->base), r->base + r->start - at,
                      false};
        json_t *v = NULL;

        err = parse_span(r, &whole, &v, d);
        if (err == KASA_OK) {
            err = top_value(r, v, obj, at, d);
            json_decref(v);
        }
        if (*obj != NULL) {
            r->out_raw = r->buf + whole.at;
            r->out_raw_len = whole.len;
        }
        if (*obj != NULL || err != KASA_OK)
            r->index++;
    }
    goto out;
syntax:
    err = fail(r, d, KASA_EJSON, r->base + r->start, true,
               "byte %llu: expected a member of the object that begins at "
               "byte %llu, found %s",
               (unsigned long long)(r->base + r->start), (unsigned long long)at,
               found(c, fb));
    goto out;
truncated:
    err = fail(r, d, KASA_EJSON, r->base + r->start, true,
               "the input ends inside the object that begins at byte %llu",
               (unsigned long long)at);
    goto out;
too_big:
    err = fail(r, d, KASA_ELIMIT, at, true,
               "object %zu (at byte %llu) is larger than the %zu-byte limit "
               "for one object",
               r->index, (unsigned long long)at, r->max_object);
    goto out;
scan_err:
    if (err == KASA_EJSON)
        goto truncated;
    if (err == KASA_ELIMIT)
        goto too_big;
out:
    r->anchored = false;
    return err;
}

/* -- the public reader ----------------------------------------------------- */

static kasa_err feed_open(kasa_stix_reader *r, const char *path,
                          kasa_stix_diag *d)
{
    size_t n = strlen(path);
    json_error_t jerr;
    json_t *manifest;
    const char *key;
    json_t *val;
    char *mpath;
    size_t i;

    r->feed_dir = malloc(n + 1);
    mpath = malloc(n + sizeof("/manifest.json"));
    if (r->feed_dir == NULL || mpath == NULL) {
        free(mpath);
        return KASA_ENOMEM;
    }
    memcpy(r->feed_dir, path, n + 1);
    if (n >= 13 && strcmp(path + n - 13, "manifest.json") == 0) {
        char *slash = strrchr(r->feed_dir, '/');

        if (slash != NULL)
            *slash = '\0';
        else
            strcpy(r->feed_dir, ".");
        memcpy(mpath, path, n + 1);
    } else {
        memcpy(mpath, path, n);
        strcpy(mpath + n, "/manifest.json");
    }
    manifest = json_load_file(mpath, 0, &jerr);
    if (manifest == NULL) {
        kasa_err e = fail(r, d, KASA_EJSON, 0, true, "%s:%d:%d: %s", mpath,
                          jerr.line, jerr.column, jerr.text);
        free(mpath);
        return e;
    }
    free(mpath);
    if (!json_is_object(manifest)) {
        json_decref(manifest);
        return fail(r, d, KASA_EDATA, 0, true,
                    "a MISP feed manifest is a JSON object of event uuids");
    }
    r->feed_uuids = json_array();
    if (r->feed_uuids == NULL) {
        json_decref(manifest);
        return KASA_ENOMEM;
    }
    json_object_foreach(manifest, key, val)
    {
        if (json_array_append_new(r->feed_uuids, json_string(key)) != 0) {
            json_decref(manifest);
            return KASA_ENOMEM;
        }
    }
    json_decref(manifest);
    /* a stable order: sorted by uuid (insertion sort: manifests are small
     * enough, and this keeps jansson's array as the only container) */
    for (i = 1; i < json_array_size(r->feed_uuids); i++) {
        size_t j = i;

        while (j > 0 &&
               strcmp(json_string_value(json_array_get(r->feed_uuids, j - 1)),
                      json_string_value(json_array_get(r->feed_uuids, j))) >
                   0) {
            json_t *a = json_incref(json_array_get(r->feed_uuids, j - 1));

            json_array_set(r->feed_uuids, j - 1,
                           json_array_get(r->feed_uuids, j));
            json_array_set_new(r->feed_uuids, j, a);
            j--;
        }
    }
    r->input = KASA_STIX_INPUT_MISP_FEED;
    r->st = ST_FEED;
    return KASA_OK;
}

kasa_err kasa_stix_reader_open(const char *path, size_t max_object,
                               kasa_stix_reader **out, kasa_stix_diag *d)
{
    kasa_stix_reader *r;
    struct stat st;
    size_t n;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return KASA_ENOMEM;
    r->fd = -1;
    r->max_object = max_object ? max_object : KASA_STIX_MAX_OBJECT;
    r->st = ST_START;
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        kasa_err err = feed_open(r, path, d);

        if (err != KASA_OK) {
            kasa_stix_reader_free(r);
            return err;
        }
        *out = r;
        return KASA_OK;
    } else {
        n = strlen(path);
        if (n >= 13 && strcmp(path + n - 13, "manifest.json") == 0) {
            kasa_err err = feed_open(r, path, d);

            if (err != KASA_OK) {
                kasa_stix_reader_free(r);
                return err;
            }
            *out = r;
            return KASA_OK;
        }
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            kasa_err err =
                fail(r, d, KASA_EIO, 0, true, "%s: %s", path, strerror(errno));

            kasa_stix_reader_free(r);
            return err;
        }
    }
    if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode))
        r->size = (uint64_t)st.st_size;
    *out = r;
    return KASA_OK;
}

void kasa_stix_reader_free(kasa_stix_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd > STDIN_FILENO)
        close(r->fd);
    free(r->buf);
    free(r->raw);
    free(r->feed_dir);
    json_decref(r->queue);
    json_decref(r->feed_uuids);
    free(r);
}

static kasa_err feed_next_event(kasa_stix_reader *r, kasa_stix_diag *d)
{
    const char *uuid =
        json_string_value(json_array_get(r->feed_uuids, r->feed_pos++));
    json_error_t jerr;
    struct stat st;
    char path[PATH_MAX];
    json_t *ev;
    kasa_err err;

    if (snprintf(path, sizeof(path), "%s/%s.json", r->feed_dir, uuid) >=
        (int)sizeof(path))
        return fail(r, d, KASA_EINVAL, 0, false, "feed path too long");
    if (stat(path, &st) != 0)
        return fail(r, d, KASA_EIO, 0, false,
                    "MISP feed: event %s listed in the manifest: %s: %s", uuid,
                    path, strerror(errno));
    if ((uint64_t)st.st_size > r->max_object)
        return fail(r, d, KASA_ELIMIT, 0, false,
                    "MISP feed: %s is larger than the %zu-byte limit", path,
                    r->max_object);
    ev = json_load_file(path, 0, &jerr);
    if (ev == NULL)
        return fail(r, d, KASA_EJSON, (uint64_t)jerr.position, false,
                    "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    r->size += (uint64_t)st.st_size;
    r->base += (uint64_t)st.st_size;
    err = misp_convert(r, ev, ST_FEED, d);
    json_decref(ev);
    return err;
}

kasa_err kasa_stix_reader_next(kasa_stix_reader *r, json_t **obj,
                               const char **raw, size_t *raw_len,
                               kasa_stix_diag *d)
{
    kasa_err err = KASA_OK;
    char fb[16];
    int c;

    *obj = NULL;
    for (;;) {
        switch (r->st) {
        case ST_DONE: return KASA_OK;
        case ST_BROKEN:
            return fail(r, d, KASA_EINVAL, r->base + r->start, true,
                        "the input cannot be read past an earlier error");
        case ST_QUEUE:
            if (r->queue_pos < json_array_size(r->queue)) {
                json_t *v = json_array_get(r->queue, r->queue_pos++);

                free(r->raw);
                r->raw = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                if (r->raw == NULL)
                    return KASA_ENOMEM;
                if (!json_is_object(v)) {
                    err = fail(r, d, KASA_EDATA, r->base, false,
                               "object %zu is %s, not a JSON object", r->index,
                               json_kind(v));
                    r->index++;
                    return err;
                }
                r->index++;
                *obj = json_incref(v);
                r->out_raw = r->raw;
                r->out_raw_len = strlen(r->raw);
                goto give_raw;
            }
            json_decref(r->queue);
            r->queue = NULL;
            r->st = r->after_queue;
            break;
        case ST_FEED:
            if (r->feed_pos >= json_array_size(r->feed_uuids)) {
                r->st = ST_DONE;
                break;
            }
            err = feed_next_event(r, d);
            if (err != KASA_OK)
                return err;
            break;
        case ST_START:
            c = peek(r, false, &err);
            if (err != KASA_OK)
                return fail(r, d, err, r->base + r->start, true,
                            "reading the input failed: %s", strerror(errno));
            if (c < 0) {
                r->st = ST_DONE;
                return KASA_OK;
            }
            if (c == '{') {
                err = top_object(r, obj, d);
                if (err != KASA_OK || *obj != NULL)
                    goto give_raw;
                break;
            }
            if (c == '[' && r->input == KASA_STIX_INPUT_UNKNOWN) {
                /* a bare JSON array of objects: read like a bundle */
                r->start++;
                r->input = KASA_STIX_INPUT_OBJECTS;
                r->st = ST_OBJECTS;
                r->bare_array = true;
                r->need_comma = false;
                break;
            }
            return fail(r, d, KASA_EJSON, r->base + r->start, true,
                        "byte %llu: expected a JSON object (a STIX bundle, "
                        "STIX objects or a MISP event), found '%c'",
                        (unsigned long long)(r->base + r->start), c);
        case ST_OBJECTS: {
            span sp;
            uint64_t at;

            c = peek(r, false, &err);
            if (err != KASA_OK)
                return err;
            if (c == ']') {
                r->start++;
                r->st = r->bare_array ? ST_START : ST_MEMBERS;
                break;
            }
            if (r->need_comma) {
                if (c != ',')
                    return fail(r, d, KASA_EJSON, r->base + r->start, true,
                                "byte %llu: expected ',' or ']' after object "
                                "%zu, found %s",
                                (unsigned long long)(r->base + r->start),
                                r->index - 1, found(c, fb));
                r->start++;
                c = peek(r, false, &err);
                if (err != KASA_OK)
                    return err;
            }
            if (c < 0 || c == ']' || c == ',')
                return fail(r, d, KASA_EJSON, r->base + r->start, true,
                            "byte %llu: expected object %zu, found %s",
                            (unsigned long long)(r->base + r->start), r->index,
                            found(c, fb));
            r->need_comma = true;
            at = r->base + r->start;
            r->last_offset = at;
            err = scan_value(r, r->max_object, &sp);
            if (err == KASA_EJSON)
                return fail(r, d, KASA_EJSON, at, true,
                            "the input ends inside object %zu, which begins "
                            "at byte %llu",
                            r->index, (unsigned long long)at);
            if (err != KASA_OK)
                return err;
            err = parse_span(r, &sp, obj, d);
            if (err == KASA_OK && !json_is_object(*obj)) {
                err = fail(r, d, KASA_EDATA, at, false, "%s, not a JSON object",
                           json_kind(*obj));
                json_decref(*obj);
                *obj = NULL;
            }
            r->index++;
            r->out_raw = r->buf + sp.at;
            r->out_raw_len = sp.len;
            goto give_raw;
        }
        case ST_MEMBERS: {
            span sp;

            c = peek(r, true, &err);
            if (err != KASA_OK)
                return err;
            if (c == '}') {
                r->st = ST_START;
                break;
            }
            /* , "key" : value */
            if (c == ',')
                c = peek(r, false, &err);
            if (c != '"')
                return fail(r, d, KASA_EJSON, r->base + r->start, true,
                            "byte %llu: expected a member or '}' to end the "
                            "bundle, found %s",
                            (unsigned long long)(r->base + r->start),
                            found(c, fb));
            err = scan_value(r, MAX_KEY, &sp);
            if (err == KASA_OK) {
                c = peek(r, true, &err);
                if (c != ':')
                    return fail(r, d, KASA_EJSON, r->base + r->start, true,
                                "byte %llu: expected ':' in the bundle",
                                (unsigned long long)(r->base + r->start));
                c = peek(r, false, &err);
                if (c < 0)
                    err = KASA_EJSON;
                else
                    err = scan_value(r, r->max_object, &sp);
            }
            if (err == KASA_EJSON)
                return fail(r, d, KASA_EJSON, r->base + r->start, true,
                            "the input ends inside the bundle");
            if (err != KASA_OK)
                return err;
            break;
        }
        }
    }
give_raw:
    if (*obj != NULL) {
        if (raw != NULL)
            *raw = r->out_raw;
        if (raw_len != NULL)
            *raw_len = r->out_raw_len;
    }
    return err;
}

bool kasa_stix_reader_can_continue(const kasa_stix_reader *r)
{
    return r->st != ST_BROKEN;
}

kasa_stix_input kasa_stix_reader_input(const kasa_stix_reader *r)
{
    return r->input;
}

uint64_t kasa_stix_reader_offset(const kasa_stix_reader *r)
{
    return r->st == ST_DONE && r->size > 0 ? r->size : r->base + r->start;
}

uint64_t kasa_stix_reader_object_offset(const kasa_stix_reader *r)
{
    return r->last_offset;
}

uint64_t kasa_stix_reader_size(const kasa_stix_reader *r)
{
    return r->size;
}

const char *kasa_stix_reader_bundle_version(const kasa_stix_reader *r)
{
    return r->bundle_version[0] != '\0' ? r->bundle_version : NULL;
}

const kasa_misp_report *kasa_stix_reader_misp(const kasa_stix_reader *r)
{
    return &r->misp;
}
