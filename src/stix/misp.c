/*
 * misp.c - a MISP event turned into STIX 2.1: an identity for the
 * organisation that created it, an indicator for each attribute flagged
 * for detection (to_ids), the TLP marking definitions those refer to, and
 * a report of the event.  Ids come from MISP's uuids and times from MISP's
 * timestamps, so the same event always gives the same objects.  Each
 * pattern is checked by the pattern engine before an indicator carries it.
 * Not for: reading files or feeds (reader.c), or validating the objects
 * beyond their patterns (validate.c).
 *
 * What is an error and what is skipped:
 *   - KASA_EDATA, nothing appended: the event is not an object; its uuid,
 *     info, timestamp or creator organisation (Orgc, else Org) is missing
 *     or ill-typed; Attribute, Object or Tag is not a list; a tag has no
 *     name; an attribute or MISP object is not a JSON object; a property
 *     the conversion reads (deleted, to_ids, type, value, uuid, timestamp,
 *     first_seen, comment, category) has the wrong type or form.  An
 *     attribute is read only as far as it is used: one without to_ids is
 *     not checked beyond to_ids, one of an unmapped type not beyond type.
 *   - skipped and counted: to_ids false or absent (skipped_no_ids), a type
 *     with no STIX pattern (skipped_type), a value that makes no valid
 *     pattern (skipped_value: an address that is not one, a port beyond
 *     65535, a digest of the wrong length...).
 *   - skipped, not counted: deleted attributes and deleted MISP objects.
 * So for every event, attributes == indicators + the three skipped counts.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "kasa/pattern.h"
#include "kasa/stix.h"
#include "stix/stix_int.h"

/* Labels kept per object, and the bytes kept of one label or name: tags
 * beyond these are dropped, long names cut at a character boundary. */
#define MISP_MAX_LABELS 256
#define MISP_MAX_LABEL  256
#define MISP_MAX_NAME   256

/* Epoch seconds of 9999-12-31T23:59:59Z, the last second STIX can write. */
#define MISP_MAX_EPOCH 253402300799LL

/* -- TLP ------------------------------------------------------------------- */

/*
 * The TLP levels MISP tags name, ordered by how far the information may
 * travel (the most restrictive tag of an event wins).  TLP 1.0 levels map
 * to the marking definitions predefined by STIX 2.1 (section 7.2.1.4);
 * TLP 2.0's CLEAR and AMBER+STRICT, which 1.0 does not have, map to the
 * marking definitions of the OASIS TLP 2.0 extension
 * (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d).
 */
typedef enum tlp_level {
    TLP_NONE = 0,
    TLP_WHITE,
    TLP_CLEAR,
    TLP_GREEN,
    TLP_AMBER,
    TLP_AMBER_STRICT,
    TLP_RED,
    TLP_COUNT
} tlp_level;

typedef struct tlp_def {
    const char *tag;  /* the MISP tag, lower case */
    int rank;         /* larger: more restrictive */
    const char *id;   /* the marking definition's id */
    const char *name; /* its name */
    const char *word; /* TLP 1.0: definition.tlp; 2.0: tlp_2_0 */
    bool v2;          /* from the TLP 2.0 extension */
} tlp_def;

static const tlp_def tlp_defs[TLP_COUNT] = {
    [TLP_WHITE] = {"tlp:white", 1,
                   "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
                   "TLP:WHITE", "white", false},
    [TLP_CLEAR] = {"tlp:clear", 1,
                   "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                   "TLP:CLEAR", "clear", true},
    [TLP_GREEN] = {"tlp:green", 2,
                   "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                   "TLP:GREEN", "green", false},
    [TLP_AMBER] = {"tlp:amber", 3,
                   "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
                   "TLP:AMBER", "amber", false},
    [TLP_AMBER_STRICT] =
        {"tlp:amber+strict", 4,
         "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
         "TLP:AMBER+STRICT", "amber+strict", true},
    [TLP_RED] = {"tlp:red", 5,
                 "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
                 "TLP:RED", "red", false},
};

#define TLP_EXTENSION                                                          \
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/* The marking definition of a level, exactly as STIX 2.1 prints the TLP
 * 1.0 ones and as the OASIS extension publishes the TLP 2.0 ones. */
static json_t *tlp_marking(tlp_level l)
{
    const tlp_def *t = &tlp_defs[l];

    if (t->v2)
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s}}}", "type",
                         "marking-definition", "spec_version", "2.1", "id",
                         t->id, "created", "2022-10-01T00:00:00.000Z", "name",
                         t->name, "extensions", TLP_EXTENSION, "extension_type",
                         "property-extension", "tlp_2_0", t->word);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "type",
                     "marking-definition", "spec_version", "2.1", "id", t->id,
                     "created", "2017-01-20T00:00:00.000Z", "definition_type",
                     "tlp", "name", t->name, "definition", "tlp", t->word);
}

static bool ascii_ieq(const char *a, size_t an, const char *b)
{
    size_t i;

    if (an != strlen(b))
        return false;
    for (i = 0; i < an; i++) {
        char c = a[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != b[i])
            return false;
    }
    return true;
}

static bool starts_tlp(const char *s, size_t n)
{
    return n >= 4 && ascii_ieq(s, 4, "tlp:");
}

static tlp_level tlp_of_tag(const char *s, size_t n)
{
    int l;

    for (l = TLP_WHITE; l < TLP_COUNT; l++)
        if (ascii_ieq(s, n, tlp_defs[l].tag))
            return (tlp_level)l;
    return TLP_NONE;
}

/* -- the conversion's state ------------------------------------------------ */

typedef struct conv {
    kasa_stix_diag *d;
    char report_id[64];      /* "report--<uuid>", for diagnostics */
    char identity_id[64];    /* "identity--<uuid>" */
    json_t *indicators;      /* the indicators made, in input order */
    bool used[TLP_COUNT];    /* marking definitions referred to */
    kasa_misp_report counts; /* added to the caller's on success */
    kasa_diag pdiag;         /* the pattern engine's, reused */
} conv;

KASA__PRINTF(4, 5)
static kasa_err fail(conv *c, const char *property, const char *rule,
                     const char *fmt, ...)
{
    va_list ap;

    if (c->d == NULL)
        return KASA_EDATA;
    c->d->code = KASA_EDATA;
    snprintf(c->d->id, sizeof(c->d->id), "%s", c->report_id);
    snprintf(c->d->property, sizeof(c->d->property), "%s", property);
    snprintf(c->d->rule, sizeof(c->d->rule), "%s", rule);
    va_start(ap, fmt);
    vsnprintf(c->d->message, sizeof(c->d->message), fmt, ap);
    va_end(ap);
    return KASA_EDATA;
}

static kasa_err nomem(conv *c)
{
    if (c->d != NULL) {
        c->d->code = KASA_ENOMEM;
        snprintf(c->d->id, sizeof(c->d->id), "%s", c->report_id);
        c->d->property[0] = '\0';
        snprintf(c->d->rule, sizeof(c->d->rule), "memory");
        snprintf(c->d->message, sizeof(c->d->message),
                 "out of memory while converting a MISP event");
    }
    return KASA_ENOMEM;
}

/* A property's path for diagnostics: "<where>.<name>". */
static const char *at(char buf[160], const char *where, const char *name)
{
    /* a path too long for the diagnostic is cut, which is all it needs */
    if (snprintf(buf, 160, "%s%s%s", where, where[0] ? "." : "", name) < 0)
        buf[0] = '\0';
    return buf;
}

/* -- reading MISP values --------------------------------------------------- */

/* MISP wrote booleans as true/false, and older versions as 0/1 or "0"/"1".
 * Returns 1, 0, `def` when absent or null, or -1 when ill-typed. */
static int misp_bool(const json_t *v, int def)
{
    const char *s;

    if (v == NULL || json_is_null(v))
        return def;
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v) &&
        (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        return (int)json_integer_value(v);
    s = json_string_value(v);
    if (s != NULL) {
        if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
            return 1;
        if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
            return 0;
    }
    return -1;
}

/* Seconds since the epoch, as MISP writes timestamps: a string of digits
 * or an integer. */
static bool misp_epoch(const json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    int64_t e = 0;
    size_t i, n;

    if (json_is_integer(v)) {
        e = json_integer_value(v);
    } else if (s != NULL) {
        n = json_string_length(v);
        if (n == 0 || n > 12)
            return false;
        for (i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            e = e * 10 + (s[i] - '0');
        }
    } else {
        return false;
    }
    if (e < 0 || e > MISP_MAX_EPOCH)
        return false;
    *out = e;
    return true;
}

static void fmt_epoch(int64_t e, char out[40])
{
    kasa__time t = {e, 0};

    kasa__time_format(t, 3, out);
}

/* MISP's first_seen: ISO 8601 with an optional fraction and a zone, e.g.
 * "2020-10-25T16:22:00.123456+00:00"; written as a UTC STIX timestamp. */
static bool misp_iso_time(const char *s, size_t n, char out[40])
{
    char buf[40];
    size_t i = 19, fs, fe;
    kasa__time t;
    int64_t off = 0;

    if (n < 20 || n > 39)
        return false;
    fs = i;
    if (s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == fs + 1)
            return false;
    }
    fe = i;
    if (i == n)
        return false;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        unsigned hh, mm;

        i++;
        if (n - i == 5 && s[i + 2] == ':' &&
            sscanf(s + i, "%2u:%2u", &hh, &mm) == 2)
            i += 5;
        else if (n - i == 4 && sscanf(s + i, "%2u%2u", &hh, &mm) == 2)
            i += 4;
        else
            return false;
        if (hh > 23 || mm > 59)
            return false;
        off = sign * (int64_t)(hh * 3600 + mm * 60);
    } else {
        return false;
    }
    if (i != n)
        return false;
    /* the date and time with its fraction, in UTC form, for the parser */
    memcpy(buf, s, fe);
    buf[fe] = 'Z';
    if (buf[10] == 't')
        buf[10] = 'T';
    if (!kasa__time_parse(buf, fe + 1, true, &t))
        return false;
    t.sec -= off;
    if (t.sec < 0 || t.sec > MISP_MAX_EPOCH)
        return false;
    kasa__time_format(t, t.nsec % 1000000 == 0 ? 3 : 6, out);
    return true;
}

/* "YYYY-MM-DD", the event's date, as midnight UTC. */
static bool misp_date(const char *s, size_t n, char out[40])
{
    char buf[24];
    kasa__time t;

    if (n != 10)
        return false;
    memcpy(buf, s, 10);
    memcpy(buf + 10, "T00:00:00Z", 11);
    if (!kasa__time_parse(buf, 20, true, &t) || t.sec < 0)
        return false;
    kasa__time_format(t, 3, out);
    return true;
}

/* A UUID in its 8-4-4-4-12 form, written in lower case. */
static bool uuid_norm(const char *s, size_t n, char out[37])
{
    size_t i;

    if (n != 36)
        return false;
    for (i = 0; i < 36; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (c >= 'A' && c <= 'F') {
            c = (char)(c - 'A' + 'a');
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
        out[i] = c;
    }
    out[36] = '\0';
    return true;
}

/* The length of the longest prefix of s[0..n) of at most `max` bytes that
 * ends on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/*
 * Add a tag's name to `labels` as a STIX label: spaces trimmed at both
 * ends, control characters turned into spaces, cut to MISP_MAX_LABEL bytes,
 * empty ones and repeats dropped, at most MISP_MAX_LABELS kept.  Returns
 * false only when memory runs out.
 */
static bool add_label(json_t *labels, const char *s, size_t n)
{
    char buf[MISP_MAX_LABEL + 1];
    size_t i, len;
    json_t *v;

    while (n > 0 && (unsigned char)s[0] <= ' ')
        s++, n--;
    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        n--;
    len = utf8_cut(s, n, MISP_MAX_LABEL);
    if (len == 0 || json_array_size(labels) >= MISP_MAX_LABELS)
        return true;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        buf[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    buf[len] = '\0';
    json_array_foreach(labels, i, v)
    {
        if (strcmp(json_string_value(v), buf) == 0)
            return true;
    }
    return json_array_append_new(labels, json_stringn(buf, len)) == 0;
}

/*
 * Read a Tag list: the most restrictive TLP level it names into *level
 * (left alone when it names none), the other tags into `labels` (NULL: not
 * wanted).  `where` names the owner of the list for diagnostics.
 */
static kasa_err read_tags(conv *c, const json_t *owner, const char *where,
                          tlp_level *level, json_t *labels)
{
    const json_t *tags = json_object_get(owner, "Tag"), *tag;
    const char *name;
    char p[160], q[160];
    size_t i, n;
    tlp_level l, best = TLP_NONE;

    if (tags == NULL || json_is_null(tags))
        return KASA_OK;
    if (!json_is_array(tags))
        return fail(c, at(p, where, "Tag"), "type", "%s must be a list of tags",
                    p);
    json_array_foreach(tags, i, tag)
    {
        snprintf(q, sizeof(q), "%s%sTag[%zu]", where, where[0] ? "." : "", i);
        name = json_string_value(json_object_get(tag, "name"));
        if (!json_is_object(tag) || name == NULL)
            return fail(c, at(p, q, "name"), "required",
                        "%s: a tag must be an object with a string name", p);
        n = json_string_length(json_object_get(tag, "name"));
        if (starts_tlp(name, n)) {
            /* TLP tags become markings, never labels; unknown TLP names
             * (tlp:unclear, tlp:ex:...) mark nothing. */
            l = tlp_of_tag(name, n);
            if (l != TLP_NONE &&
                (best == TLP_NONE || tlp_defs[l].rank > tlp_defs[best].rank))
                best = l;
            continue;
        }
        if (labels != NULL && !add_label(labels, name, n))
            return nomem(c);
    }
    if (best != TLP_NONE)
        *level = best;
    return KASA_OK;
}

/* -- patterns -------------------------------------------------------------- */

/* A growing buffer for one pattern. */
typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    char *np;
    size_t cap;

    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A string literal: quoted, with backslash and quote escaped (STIX 2.1
 * patterning, section 9.2: those are the two escapes a literal has). */
static void put_lit(buf *b, const char *s, size_t n)
{
    size_t i, run = 0;

    put(b, "'", 1);
    for (i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '\'') {
            put(b, s + run, i - run);
            put(b, "\\", 1);
            run = i;
        }
    }
    put(b, s + run, n - run);
    put(b, "'", 1);
}

/* "<path> = '<value>'" */
static void put_eq(buf *b, const char *path, const char *s, size_t n)
{
    puts_(b, path);
    puts_(b, " = ");
    put_lit(b, s, n);
}

/* How the pattern of a MISP type is built. */
typedef enum shape {
    SH_EQ,          /* [path = 'value'] */
    SH_FILE_HASH,   /* filename|hash: file name AND digest */
    SH_IP,          /* ip-src / ip-dst: path is "src" or "dst" */
    SH_IP_PORT,     /* ip-src|port / ip-dst|port */
    SH_HOST_PORT,   /* hostname|port */
    SH_DOMAIN_IP,   /* domain|ip */
    SH_REGKEY_DATA, /* regkey|value */
    SH_AS,          /* AS: an autonomous system number */
    SH_MAC          /* mac-address */
} shape;

typedef struct mapping {
    const char *type;
    shape shape;
    const char *path;
} mapping;

/*
 * MISP attribute types and the STIX 2.1 object paths they become, after
 * MISP's own converter (misp-stix) where it follows the STIX 2.1 object
 * model, and with the model where it does not (list properties take [*];
 * numbers are compared as numbers).  Hash names are those of the STIX 2.1
 * hash-algorithm-ov (section 10.7), and for algorithms it lacks the same
 * spelling ('SHA-224', 'SHA-384', 'SHA3-224', 'SHA3-384').  Types absent
 * here (ja3-fingerprint-md5, port, link-less text, yara, snort, ...) have
 * no STIX pattern and count as skipped_type.
 */
static const mapping mappings[] = {
    {"md5", SH_EQ, "file:hashes.MD5"},
    {"sha1", SH_EQ, "file:hashes.'SHA-1'"},
    {"sha224", SH_EQ, "file:hashes.'SHA-224'"},
    {"sha256", SH_EQ, "file:hashes.'SHA-256'"},
    {"sha384", SH_EQ, "file:hashes.'SHA-384'"},
    {"sha512", SH_EQ, "file:hashes.'SHA-512'"},
    {"sha3-224", SH_EQ, "file:hashes.'SHA3-224'"},
    {"sha3-256", SH_EQ, "file:hashes.'SHA3-256'"},
    {"sha3-384", SH_EQ, "file:hashes.'SHA3-384'"},
    {"sha3-512", SH_EQ, "file:hashes.'SHA3-512'"},
    {"ssdeep", SH_EQ, "file:hashes.SSDEEP"},
    {"tlsh", SH_EQ, "file:hashes.TLSH"},
    {"imphash", SH_EQ, "file:extensions.'windows-pebinary-ext'.imphash"},
    {"filename", SH_EQ, "file:name"},
    {"filename|md5", SH_FILE_HASH, "file:hashes.MD5"},
    {"filename|sha1", SH_FILE_HASH, "file:hashes.'SHA-1'"},
    {"filename|sha224", SH_FILE_HASH, "file:hashes.'SHA-224'"},
    {"filename|sha256", SH_FILE_HASH, "file:hashes.'SHA-256'"},
    {"filename|sha384", SH_FILE_HASH, "file:hashes.'SHA-384'"},
    {"filename|sha512", SH_FILE_HASH, "file:hashes.'SHA-512'"},
    {"filename|ssdeep", SH_FILE_HASH, "file:hashes.SSDEEP"},
    {"filename|tlsh", SH_FILE_HASH, "file:hashes.TLSH"},
    {"ip-src", SH_IP, "src"},
    {"ip-dst", SH_IP, "dst"},
    {"ip-src|port", SH_IP_PORT, "src"},
    {"ip-dst|port", SH_IP_PORT, "dst"},
    {"hostname|port", SH_HOST_PORT, NULL},
    {"domain", SH_EQ, "domain-name:value"},
    {"hostname", SH_EQ, "domain-name:value"},
    {"domain|ip", SH_DOMAIN_IP, NULL},
    {"url", SH_EQ, "url:value"},
    {"uri", SH_EQ, "url:value"},
    {"link", SH_EQ, "url:value"},
    {"email", SH_EQ, "email-addr:value"},
    {"email-src", SH_EQ, "email-message:from_ref.value"},
    {"email-dst", SH_EQ, "email-message:to_refs[*].value"},
    {"email-subject", SH_EQ, "email-message:subject"},
    {"email-attachment", SH_EQ,
     "email-message:body_multipart[*].body_raw_ref.name"},
    {"email-message-id", SH_EQ, "email-message:message_id"},
    {"user-agent", SH_EQ,
     "network-traffic:extensions.'http-request-ext'.request_header."
     "'User-Agent'"},
    {"mutex", SH_EQ, "mutex:name"},
    {"regkey", SH_EQ, "windows-registry-key:key"},
    {"regkey|value", SH_REGKEY_DATA, NULL},
    {"AS", SH_AS, NULL},
    {"mac-address", SH_MAC, NULL},
    {"x509-fingerprint-md5", SH_EQ, "x509-certificate:hashes.MD5"},
    {"x509-fingerprint-sha1", SH_EQ, "x509-certificate:hashes.'SHA-1'"},
    {"x509-fingerprint-sha256", SH_EQ, "x509-certificate:hashes.'SHA-256'"},
};

static const mapping *mapping_for(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(mappings) / sizeof(mappings[0]); i++)
        if (strcmp(mappings[i].type, type) == 0)
            return &mappings[i];
    return NULL;
}

/*
 * An IP address, or a network in CIDR notation: its STIX type
 * ("ipv4-addr" or "ipv6-addr"), and whether it is a network (compared with
 * ISSUBSET, as STIX 2.1 section 9.5 shows for address ranges).
 */
static const char *ip_kind(const char *s, size_t n, bool allow_cidr, bool *cidr)
{
    char addr[64];
    unsigned char bin[16];
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n, i, plen;
    unsigned prefix = 0, max;
    const char *kind;

    *cidr = slash != NULL;
    if (alen == 0 || alen >= sizeof(addr) || (slash && !allow_cidr))
        return NULL;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1) {
        kind = "ipv4-addr";
        max = 32;
    } else if (inet_pton(AF_INET6, addr, bin) == 1) {
        kind = "ipv6-addr";
        max = 128;
    } else {
        return NULL;
    }
    if (slash) {
        plen = n - alen - 1;
        if (plen == 0 || plen > 3)
            return NULL;
        for (i = 0; i < plen; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return NULL;
            prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (prefix > max)
            return NULL;
    }
    return kind;
}

/* A decimal number of 1 to `maxd` digits, at most `max`. */
static bool decimal(const char *s, size_t n, size_t maxd, uint64_t max,
                    uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || n > maxd)
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* "[network-traffic:<side>_ref.type = '<kind>' AND ..._ref.value op 'v'" */
static bool put_ip(buf *b, const char *side, const char *s, size_t n)
{
    bool cidr;
    const char *kind = ip_kind(s, n, true, &cidr);

    if (kind == NULL)
        return false;
    puts_(b, "network-traffic:");
    puts_(b, side);
    puts_(b, "_ref.type = '");
    puts_(b, kind);
    puts_(b, "' AND network-traffic:");
    puts_(b, side);
    puts_(b, cidr ? "_ref.value ISSUBSET " : "_ref.value = ");
    put_lit(b, s, n);
    return true;
}

static void put_u64(buf *b, uint64_t v)
{
    char num[24];
    int len = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);

    put(b, num, (size_t)len);
}

/* The pattern of one attribute into `b`; false if its value makes none. */
static bool build_pattern(buf *b, const mapping *m, const char *v, size_t n)
{
    const char *bar;
    size_t a, i;
    uint64_t num;
    char mac[17];

    if (n == 0)
        return false;
    puts_(b, "[");
    switch (m->shape) {
    case SH_EQ: put_eq(b, m->path, v, n); break;
    case SH_FILE_HASH:
        /* a digest has no '|'; a file name might */
        for (bar = NULL, i = n; i-- > 0;)
            if (v[i] == '|') {
                bar = v + i;
                break;
            }
        if (bar == NULL || bar == v || bar == v + n - 1)
            return false;
        put_eq(b, "file:name", v, (size_t)(bar - v));
        puts_(b, " AND ");
        put_eq(b, m->path, bar + 1, n - (size_t)(bar - v) - 1);
        break;
    case SH_IP:
        if (!put_ip(b, m->path, v, n))
            return false;
        break;
    case SH_IP_PORT:
    case SH_HOST_PORT:
        for (bar = NULL, i = n; i-- > 0;)
            if (v[i] == '|') {
                bar = v + i;
                break;
            }
        if (bar == NULL || bar == v)
            return false;
        a = (size_t)(bar - v);
        if (!decimal(bar + 1, n - a - 1, 5, 65535, &num))
            return false;
        if (m->shape == SH_IP_PORT) {
            if (!put_ip(b, m->path, v, a))
                return false;
        } else {
            puts_(b, "network-traffic:dst_ref.type = 'domain-name' AND ");
            put_eq(b, "network-traffic:dst_ref.value", v, a);
        }
        puts_(b, " AND network-traffic:");
        puts_(b, m->shape == SH_IP_PORT ? m->path : "dst");
        puts_(b, "_port = ");
        put_u64(b, num);
        break;
    case SH_DOMAIN_IP: {
        bool cidr;

        bar = memchr(v, '|', n);
        if (bar == NULL || bar == v)
            return false;
        a = (size_t)(bar - v);
        if (ip_kind(bar + 1, n - a - 1, false, &cidr) == NULL)
            return false;
        put_eq(b, "domain-name:value", v, a);
        puts_(b, " AND ");
        put_eq(b, "domain-name:resolves_to_refs[*].value", bar + 1, n - a - 1);
        break;
    }
    case SH_REGKEY_DATA:
        /* MISP splits composite values at the first '|' */
        bar = memchr(v, '|', n);
        if (bar == NULL || bar == v)
            return false;
        a = (size_t)(bar - v);
        put_eq(b, "windows-registry-key:key", v, a);
        puts_(b, " AND ");
        put_eq(b, "windows-registry-key:values[*].data", bar + 1, n - a - 1);
        break;
    case SH_AS:
        if (n > 2 && (v[0] == 'A' || v[0] == 'a') &&
            (v[1] == 'S' || v[1] == 's'))
            v += 2, n -= 2;
        if (!decimal(v, n, 10, 4294967295u, &num))
            return false;
        puts_(b, "autonomous-system:number = ");
        put_u64(b, num);
        break;
    case SH_MAC:
        /* STIX 2.1 (6.6): lower case, colon-delimited, 6 octets */
        if (n != 17)
            return false;
        for (i = 0; i < 17; i++) {
            char c = v[i];

            if (i % 3 == 2) {
                if (c != ':' && c != '-')
                    return false;
                c = ':';
            } else if (c >= 'A' && c <= 'F') {
                c = (char)(c - 'A' + 'a');
            } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
            mac[i] = c;
        }
        put_eq(b, "mac-addr:value", mac, 17);
        break;
    }
    puts_(b, "]");
    return true;
}

/*
 * Whether the pattern engine accepts the pattern as valid STIX 2.1: parsed
 * and validated (a digest of the right length for its algorithm...).
 * KASA_OK and *ok, or KASA_ENOMEM.
 */
static kasa_err pattern_ok(conv *c, const char *s, size_t n, bool *ok)
{
    kasa_pattern *p = NULL;
    kasa_err err;

    err = kasa_pattern_parse(s, n, KASA_STIX_2_1, &p, &c->pdiag);
    if (err == KASA_OK)
        err = kasa_pattern_validate(p, &c->pdiag);
    kasa_pattern_free(p);
    if (err == KASA_ENOMEM)
        return KASA_ENOMEM;
    *ok = err == KASA_OK;
    return KASA_OK;
}

/* -- objects --------------------------------------------------------------- */

static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v));
}

/* The common properties of every object made here. */
static json_t *new_object(const char *type, const char *id,
                          const char *created_by, const char *created,
                          const char *modified)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    if (set_str(o, "type", type) || set_str(o, "spec_version", "2.1") ||
        set_str(o, "id", id) ||
        (created_by && set_str(o, "created_by_ref", created_by)) ||
        set_str(o, "created", created) || set_str(o, "modified", modified)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int set_marking(conv *c, json_t *o, tlp_level l)
{
    if (l == TLP_NONE)
        return 0;
    c->used[l] = true;
    return json_object_set_new(o, "object_marking_refs",
                               json_pack("[s]", tlp_defs[l].id));
}

/* A string property that may be absent or null: NULL then, and also when
 * it is something else, which sets *bad. */
static const json_t *opt_string(const json_t *o, const char *k, bool *bad)
{
    const json_t *v = json_object_get(o, k);

    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v))
        *bad = true;
    return json_is_string(v) ? v : NULL;
}

/*
 * One attribute: counted, and turned into an indicator when it is flagged
 * for detection and its type and value make a valid pattern.  `where` is
 * its path ("Event.Attribute[3]"), `level` the TLP of what holds it.
 */
static kasa_err convert_attribute(conv *c, const json_t *attr,
                                  const char *where, tlp_level level)
{
    const json_t *jvalue, *jv, *category, *comment;
    const char *type, *value;
    const mapping *m;
    char p[160], uuid[37], id[64], ts[40], from[40];
    char text[MISP_MAX_LABEL + MISP_MAX_NAME + 32];
    size_t vlen, cut;
    int64_t epoch;
    int flag;
    bool bad = false, ok = false;
    buf b = {0};
    json_t *ind = NULL, *labels = NULL;
    kasa_err err;

    if (!json_is_object(attr))
        return fail(c, where, "type", "%s: an attribute must be an object",
                    where);
    flag = misp_bool(json_object_get(attr, "deleted"), 0);
    if (flag < 0)
        return fail(c, at(p, where, "deleted"), "type",
                    "%s must be true or false", p);
    if (flag == 1)
        return KASA_OK;
    c->counts.attributes++;

    flag = misp_bool(json_object_get(attr, "to_ids"), 0);
    if (flag < 0)
        return fail(c, at(p, where, "to_ids"), "type",
                    "%s must be true or false", p);
    if (flag == 0) {
        c->counts.skipped_no_ids++;
        return KASA_OK;
    }

    type = json_string_value(json_object_get(attr, "type"));
    if (type == NULL)
        return fail(c, at(p, where, "type"), "required",
                    "%s: an attribute needs a string type", p);
    m = mapping_for(type);
    if (m == NULL) {
        c->counts.skipped_type++;
        return KASA_OK;
    }

    jvalue = json_object_get(attr, "value");
    value = json_string_value(jvalue);
    if (value == NULL)
        return fail(c, at(p, where, "value"), "required",
                    "%s: an attribute needs a string value", p);
    vlen = json_string_length(jvalue);

    jv = json_object_get(attr, "uuid");
    if (!json_is_string(jv) ||
        !uuid_norm(json_string_value(jv), json_string_length(jv), uuid))
        return fail(c, at(p, where, "uuid"), jv ? "uuid-format" : "required",
                    "%s must be a UUID (8-4-4-4-12 hexadecimal digits)", p);
    snprintf(id, sizeof(id), "indicator--%s", uuid);

    jv = json_object_get(attr, "timestamp");
    if (!misp_epoch(jv, &epoch))
        return fail(c, at(p, where, "timestamp"), jv ? "timestamp" : "required",
                    "%s must be seconds since the epoch, as digits", p);
    fmt_epoch(epoch, ts);

    jv = opt_string(attr, "first_seen", &bad);
    if (bad || (jv != NULL && !misp_iso_time(json_string_value(jv),
                                             json_string_length(jv), from)))
        return fail(c, at(p, where, "first_seen"), "timestamp",
                    "%s must be an ISO 8601 time with a zone, such as "
                    "2020-10-25T16:22:00.000000+00:00",
                    p);
    if (jv == NULL)
        memcpy(from, ts, sizeof(ts));
    comment = opt_string(attr, "comment", &bad);
    if (bad)
        return fail(c, at(p, where, "comment"), "type", "%s must be a string",
                    p);
    category = opt_string(attr, "category", &bad);
    if (bad)
        return fail(c, at(p, where, "category"), "type", "%s must be a string",
                    p);

    /* the value makes a pattern the engine accepts, or it is skipped */
    if (memchr(value, '\0', vlen) == NULL &&
        build_pattern(&b, m, value, vlen) && !b.oom) {
        err = pattern_ok(c, b.p, b.len, &ok);
        if (err != KASA_OK)
            goto out_nomem;
    }
    if (b.oom)
        goto out_nomem;
    if (!ok) {
        c->counts.skipped_value++;
        err = KASA_OK;
        goto out;
    }

    /* labels: MISP's type and category, as misp-stix writes them, then the
     * attribute's own tags, whose TLP (if any) overrides the event's */
    labels = json_array();
    if (labels == NULL)
        goto out_nomem;
    snprintf(text, sizeof(text), "misp:type=\"%s\"", type);
    if (!add_label(labels, text, strlen(text)))
        goto out_nomem;
    if (category != NULL) {
        cut = utf8_cut(json_string_value(category),
                       json_string_length(category), MISP_MAX_LABEL);
        snprintf(text, sizeof(text), "misp:category=\"%.*s\"", (int)cut,
                 json_string_value(category));
        if (!add_label(labels, text, strlen(text)))
            goto out_nomem;
    }
    err = read_tags(c, attr, where, &level, labels);
    if (err != KASA_OK)
        goto out;

    ind = new_object("indicator", id, c->identity_id, ts, ts);
    if (ind == NULL)
        goto out_nomem;
    cut = utf8_cut(value, vlen, MISP_MAX_NAME);
    snprintf(text, sizeof(text), "%s: %.*s%s", type, (int)cut, value,
             cut < vlen ? "..." : "");
    if (set_str(ind, "name", text))
        goto out_nomem;
    if (comment != NULL && json_string_length(comment) > 0 &&
        json_object_set_new(ind, "description",
                            json_stringn(json_string_value(comment),
                                         json_string_length(comment))))
        goto out_nomem;
    if (json_object_set_new(ind, "pattern", json_stringn(b.p, b.len)) ||
        set_str(ind, "pattern_type", "stix") ||
        set_str(ind, "pattern_version", "2.1") ||
        set_str(ind, "valid_from", from) ||
        json_object_set(ind, "labels", labels) || set_marking(c, ind, level) ||
        json_array_append(c->indicators, ind))
        goto out_nomem;
    c->counts.indicators++;
    err = KASA_OK;
    goto out;
out_nomem:
    err = nomem(c);
out:
    json_decref(ind);
    json_decref(labels);
    free(b.p);
    return err;
}

/* The attributes of a list ("Attribute" of the event or of a MISP object). */
static kasa_err convert_list(conv *c, const json_t *owner, const char *where,
                             tlp_level level)
{
    const json_t *list = json_object_get(owner, "Attribute"), *a;
    char p[160];
    size_t i;
    kasa_err err;

    if (list == NULL || json_is_null(list))
        return KASA_OK;
    if (!json_is_array(list))
        return fail(c, at(p, where, "Attribute"), "type",
                    "%s must be a list of attributes", p);
    json_array_foreach(list, i, a)
    {
        snprintf(p, sizeof(p), "%s%sAttribute[%zu]", where, where[0] ? "." : "",
                 i);
        err = convert_attribute(c, a, p, level);
        if (err != KASA_OK)
            return err;
    }
    return KASA_OK;
}

/* The organisation that created the event (Orgc; Org when an export has
 * only that): an identity, its id from the organisation's uuid, or a
 * UUIDv5 of its name when it has none. */
static kasa_err make_identity(conv *c, const json_t *ev, const char *root,
                              const char *ts, tlp_level level, json_t **out)
{
    const char *key = "Orgc", *name;
    const json_t *org = json_object_get(ev, key), *jv;
    char p[160], where[160], uuid[37];
    kasa_err err;

    if (org == NULL || json_is_null(org)) {
        key = "Org";
        org = json_object_get(ev, key);
    }
    snprintf(where, sizeof(where), "%s%s%s", root, root[0] ? "." : "",
             org ? key : "Orgc");
    if (!json_is_object(org))
        return fail(c, where, org ? "type" : "required",
                    "%s: the event needs its creating organisation, an "
                    "object with a name",
                    where);
    name = json_string_value(json_object_get(org, "name"));
    if (name == NULL || name[0] == '\0')
        return fail(c, at(p, where, "name"), "required",
                    "%s: the organisation needs a non-empty string name", p);
    jv = json_object_get(org, "uuid");
    if (!json_is_string(jv) ||
        !uuid_norm(json_string_value(jv), json_string_length(jv), uuid)) {
        err = kasa__stix_uuid5(name, strlen(name), uuid);
        if (err != KASA_OK)
            return nomem(c);
    }
    snprintf(c->identity_id, sizeof(c->identity_id), "identity--%s", uuid);
    *out = new_object("identity", c->identity_id, NULL, ts, ts);
    if (*out == NULL || set_str(*out, "name", name) ||
        set_str(*out, "identity_class", "organization") ||
        set_marking(c, *out, level))
        return nomem(c);
    return KASA_OK;
}

kasa_err kasa_misp_event_to_stix(const json_t *event, json_t *out,
                                 kasa_misp_report *rep, kasa_stix_diag *d)
{
    conv c;
    const json_t *ev = event, *jv, *objects, *o;
    const char *root = "", *info;
    char p[160], uuid[37], ts[40], published[40];
    int64_t epoch;
    tlp_level level = TLP_NONE;
    json_t *identity = NULL, *report = NULL, *labels = NULL, *refs = NULL;
    json_t *result = NULL;
    size_t i;
    int flag;
    kasa_err err;

    memset(&c, 0, sizeof(c));
    c.d = d;
    if (!json_is_array(out)) {
        if (d != NULL) {
            d->code = KASA_EINVAL;
            d->id[0] = d->property[0] = '\0';
            snprintf(d->rule, sizeof(d->rule), "argument");
            snprintf(d->message, sizeof(d->message),
                     "kasa_misp_event_to_stix needs an array to append to");
        }
        return KASA_EINVAL;
    }
    jv = json_object_get(event, "Event");
    if (jv != NULL) {
        ev = jv;
        root = "Event";
        if (!json_is_object(ev))
            return fail(&c, "Event", "type", "Event must be an object");
    }
    if (!json_is_object(ev))
        return fail(&c, "", "type", "a MISP event must be a JSON object");

    /* the event's own facts: uuid, info, timestamp, publication */
    jv = json_object_get(ev, "uuid");
    if (!json_is_string(jv) ||
        !uuid_norm(json_string_value(jv), json_string_length(jv), uuid))
        return fail(&c, at(p, root, "uuid"), jv ? "uuid-format" : "required",
                    "%s must be a UUID (8-4-4-4-12 hexadecimal digits)", p);
    snprintf(c.report_id, sizeof(c.report_id), "report--%s", uuid);

    info = json_string_value(json_object_get(ev, "info"));
    if (info == NULL)
        return fail(&c, at(p, root, "info"), "required",
                    "%s: the event needs a string info (its title)", p);

    jv = json_object_get(ev, "timestamp");
    if (!misp_epoch(jv, &epoch))
        return fail(&c, at(p, root, "timestamp"), jv ? "timestamp" : "required",
                    "%s must be seconds since the epoch, as digits", p);
    fmt_epoch(epoch, ts);

    /* published: when MISP published it, else the event's date, else its
     * last change */
    memcpy(published, ts, sizeof(ts));
    jv = json_object_get(ev, "date");
    if (jv != NULL && !json_is_null(jv) &&
        (!json_is_string(jv) ||
         !misp_date(json_string_value(jv), json_string_length(jv), published)))
        return fail(&c, at(p, root, "date"), "date-format",
                    "%s must be a date YYYY-MM-DD", p);
    jv = json_object_get(ev, "publish_timestamp");
    if (jv != NULL && !json_is_null(jv)) {
        if (!misp_epoch(jv, &epoch))
            return fail(&c, at(p, root, "publish_timestamp"), "timestamp",
                        "%s must be seconds since the epoch, as digits", p);
        if (epoch > 0)
            fmt_epoch(epoch, published);
    }

    labels = json_array();
    refs = json_array();
    c.indicators = json_array();
    result = json_array();
    if (labels == NULL || refs == NULL || c.indicators == NULL ||
        result == NULL)
        goto out_nomem;

    /* the event's tags: its TLP for everything, the rest as labels */
    err = read_tags(&c, ev, root, &level, labels);
    if (err != KASA_OK)
        goto out;
    err = make_identity(&c, ev, root, ts, level, &identity);
    if (err != KASA_OK)
        goto out;

    err = convert_list(&c, ev, root, level);
    if (err != KASA_OK)
        goto out;
    objects = json_object_get(ev, "Object");
    if (objects != NULL && !json_is_null(objects) && !json_is_array(objects)) {
        err = fail(&c, at(p, root, "Object"), "type",
                   "%s must be a list of MISP objects", p);
        goto out;
    }
    json_array_foreach(objects, i, o)
    {
        char ow[160];

        snprintf(ow, sizeof(ow), "%s%sObject[%zu]", root, root[0] ? "." : "",
                 i);
        if (!json_is_object(o)) {
            err =
                fail(&c, ow, "type", "%s: a MISP object must be an object", ow);
            goto out;
        }
        flag = misp_bool(json_object_get(o, "deleted"), 0);
        if (flag < 0) {
            err = fail(&c, at(p, ow, "deleted"), "type",
                       "%s must be true or false", p);
            goto out;
        }
        if (flag == 1)
            continue;
        err = convert_list(&c, o, ow, level);
        if (err != KASA_OK)
            goto out;
    }

    /* the report of the event, referring to everything made from it */
    if (json_array_append_new(refs, json_string(c.identity_id)))
        goto out_nomem;
    json_array_foreach(c.indicators, i, o)
    {
        if (json_array_append(refs, json_object_get(o, "id")))
            goto out_nomem;
    }
    report = new_object("report", c.report_id, c.identity_id, ts, ts);
    if (report == NULL)
        goto out_nomem;
    if (info[0] == '\0') {
        snprintf(p, sizeof(p), "MISP event %s", uuid);
        info = p;
    }
    if (set_str(report, "name", info) ||
        set_str(report, "published", published) ||
        json_object_set_new(report, "report_types",
                            json_pack("[s]", "threat-report")) ||
        json_object_set(report, "object_refs", refs) ||
        (json_array_size(labels) > 0 &&
         json_object_set(report, "labels", labels)) ||
        set_marking(&c, report, level))
        goto out_nomem;

    /* markings first, so that a reader meets each before its users */
    for (i = TLP_WHITE; i < TLP_COUNT; i++)
        if (c.used[i] &&
            json_array_append_new(result, tlp_marking((tlp_level)i)))
            goto out_nomem;
    if (json_array_append(result, identity) ||
        json_array_extend(result, c.indicators) ||
        json_array_append(result, report) || json_array_extend(out, result))
        goto out_nomem;
    if (rep != NULL) {
        rep->attributes += c.counts.attributes;
        rep->indicators += c.counts.indicators;
        rep->skipped_no_ids += c.counts.skipped_no_ids;
        rep->skipped_type += c.counts.skipped_type;
        rep->skipped_value += c.counts.skipped_value;
    }
    err = KASA_OK;
    goto out;
out_nomem:
    err = nomem(&c);
out:
    json_decref(identity);
    json_decref(report);
    json_decref(labels);
    json_decref(refs);
    json_decref(c.indicators);
    json_decref(result);
    return err;
}
