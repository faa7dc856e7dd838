/*
 * sighting.c - what this node saw, as STIX sightings for the producers of
 * the indicators (include/kasa/sensor.h): one sighting per indicator,
 * counted in memory as warnings come, stored as a new version on each
 * flush.  The sighting's id is a UUIDv5 of the node's identity and the
 * indicator's id, so that every run of the node continues the same
 * sighting.  Sharing them back is the TAXII side's business.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "kasa/sensor.h"
#include "kasa/stix.h"

/* The namespace of kasa's sighting ids (a random UUID, fixed forever). */
static const unsigned char sighting_namespace[16] = {
    0x5b, 0x0f, 0x52, 0x3c, 0x8e, 0x1d, 0x4d, 0x7a,
    0x9b, 0x44, 0x2e, 0x6f, 0x0c, 0x13, 0xa8, 0xd1};

/* The TLP 2.0 marking definitions, by kasa_tlp level. */
static const char *const tlp2_ids[] = {
    NULL,
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* clear */
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* green */
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* amber */
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", /* +strict */
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"  /* red */
};

#define MAX_COUNT 999999999 /* the specification's bound on count */

typedef struct seen {
    char id[48];         /* the sighting's */
    char *indicator;     /* its sighting_of_ref */
    int tlp;             /* kasa_tlp, or -1 when the indicator has none */
    int64_t first, last; /* microseconds */
    uint64_t count;      /* since the last flush */
    bool dirty;
} seen;

struct kasa_sightings {
    kasa_store *store;
    char *collection;
    char *identity;
    seen *v;
    size_t n, cap;
    int64_t last_modified; /* versions are strictly increasing */
};

kasa_err kasa_sighting_id(const char *identity, const char *indicator,
                          char out[48])
{
    size_t a = strlen(identity), b = strlen(indicator);
    char *name = malloc(a + 1 + b), uuid[37];
    kasa_err err = KASA_ENOMEM;

    /* the name: "<identity> <indicator>" */
    if (name) {
        memcpy(name, identity, a);
        name[a] = ' ';
        memcpy(name + a + 1, indicator, b);
        err = kasa__uuid5(sighting_namespace, name, a + 1 + b, uuid);
        free(name);
    }
    if (err == KASA_OK)
        snprintf(out, 48, "sighting--%s", uuid);
    return err;
}
kasa_sightings *kasa_sightings_new(kasa_store *store, const char *collection,
                                   const char *identity)
{
    kasa_sightings *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->store = store;
    s->collection = strdup(collection);
    s->identity = strdup(identity);
    if (!s->collection || !s->identity) {
        kasa_sightings_free(s);
        return NULL;
    }
    return s;
}

void kasa_sightings_free(kasa_sightings *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        free(s->v[i].indicator);
    free(s->v);
    free(s->collection);
    free(s->identity);
    free(s);
}

kasa_err kasa_sightings_note(kasa_sightings *s, const kasa_match *m)
{
    const char *ind = m->indicator->id;
    seen *x = NULL;
    size_t i;

    /* few distinct indicators fire: a list is enough */
    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i].indicator, ind) == 0) {
            x = &s->v[i];
            break;
        }
    if (!x) {
        if (!kasa__grow(&s->v, &s->cap, s->n, sizeof(*s->v)))
            return KASA_ENOMEM;
        x = &s->v[s->n];
        memset(x, 0, sizeof(*x));
        x->indicator = strdup(ind);
        if (!x->indicator)
            return KASA_ENOMEM;
        if (kasa_sighting_id(s->identity, ind, x->id) != KASA_OK) {
            free(x->indicator);
            return KASA_ENOMEM;
        }
        x->first = x->last = m->time_us;
        s->n++;
    }
    x->tlp = m->indicator->tlp ? kasa_stix_tlp_parse(m->indicator->tlp) : -1;
    if (m->time_us < x->first)
        x->first = m->time_us;
    if (m->time_us > x->last)
        x->last = m->time_us;
    x->count++;
    x->dirty = true;
    return KASA_OK;
}

/* What the stored sighting says, when there is one. */
typedef struct prev {
    uint64_t count;
    int64_t first, last, modified;
    char created[40];
} prev;

static kasa_err previous(kasa_sightings *s, const seen *x, prev *p,
                         kasa_diag *diag)
{
    const char *ids[1] = {x->id};
    kasa_query q;
    kasa_page page;
    kasa_err err;

    memset(&q, 0, sizeof(q));
    q.ids = ids;
    q.n_ids = 1;
    q.with_json = true;
    err = kasa_store_query(s->store, s->collection, &q, &page, diag);
    if (err != KASA_OK)
        return err;
    if (page.n) {
        json_t *o =
            json_loadb(page.records[0].json, page.records[0].json_len, 0, NULL);
        json_t *c = json_object_get(o, "count");
        const char *fs = json_string_value(json_object_get(o, "first_seen"));
        const char *ls = json_string_value(json_object_get(o, "last_seen"));
        const char *md = json_string_value(json_object_get(o, "modified"));
        const char *cr = json_string_value(json_object_get(o, "created"));
        int64_t t;
        if (json_is_integer(c) && json_integer_value(c) > 0)
            p->count = (uint64_t)json_integer_value(c);
        if (fs && kasa_stix_time_us(fs, &t) && t < p->first)
            p->first = t;
        if (ls && kasa_stix_time_us(ls, &t) && t > p->last)
            p->last = t;
        if (md && kasa_stix_time_us(md, &t))
            p->modified = t;
        if (cr && strlen(cr) < sizeof(p->created))
            strcpy(p->created, cr);
        json_decref(o);
    }
    kasa_page_free(&page);
    return KASA_OK;
}

static kasa_err store_one(kasa_sightings *s, seen *x, int64_t now,
                          kasa_diag *diag)
{
    char modified[32], first[32], last[32];
    prev p;
    json_t *o;
    char *raw = NULL, *buf = NULL;
    kasa_store_object so;
    kasa_add_result res;
    kasa_stix_diag sd;
    kasa_err err;

    memset(&p, 0, sizeof(p));
    p.first = x->first;
    p.last = x->last;
    err = previous(s, x, &p, diag);
    if (err != KASA_OK)
        return err;
    p.count += x->count;
    if (p.count > MAX_COUNT)
        p.count = MAX_COUNT;
    if (now <= p.modified) /* a clock behind the stored version's */
        now = p.modified + 1000;
    kasa_stix_time_format_us(now, modified);
    kasa_stix_time_format_us(p.first, first);
    kasa_stix_time_format_us(p.last, last);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:I, s:s, s:s}",
                  "type", "sighting", "spec_version", "2.1", "id", x->id,
                  "created", p.created[0] ? p.created : modified, "modified",
                  modified, "created_by_ref", s->identity, "sighting_of_ref",
                  x->indicator, "where_sighted_refs", s->identity, "count",
                  (json_int_t)p.count, "first_seen", first, "last_seen", last);
    if (!o)
        return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    if (x->tlp > 0 && x->tlp < 6 &&
        json_object_set_new(o, "object_marking_refs",
                            json_pack("[s]", tlp2_ids[x->tlp])) != 0)
        err = KASA_ENOMEM;
    if (err == KASA_OK && !(raw = json_dumps(o, JSON_COMPACT)))
        err = KASA_ENOMEM;
    memset(&sd, 0, sizeof(sd));
    if (err == KASA_OK)
        err = kasa_stix_prepare(o, raw, strlen(raw), 0, &so, &buf, &sd);
    if (err == KASA_EINVALID)
        err = kasa__diag_at(diag, err, NULL, 0, 0, 0, "sighting %s: %s", x->id,
                            sd.message);
    if (err == KASA_OK)
        err = kasa_store_add(s->store, s->collection, &so, 1, &res, diag);
    if (err == KASA_ENOMEM)
        kasa__diag_at(diag, err, NULL, 0, 0, 0, "out of memory");
    free(buf);
    free(raw);
    json_decref(o);
    return err;
}

kasa_err kasa_sightings_flush(kasa_sightings *s, size_t *stored,
                              kasa_diag *diag)
{
    int64_t now = kasa_now_us();
    size_t i, n = 0;
    kasa_err err = KASA_OK;

    /* a version per flush, each later than the last */
    now -= now % 1000;
    if (now <= s->last_modified)
        now = s->last_modified + 1000;
    for (i = 0; i < s->n && err == KASA_OK; i++) {
        seen *x = &s->v[i];
        if (!x->dirty)
            continue;
        err = store_one(s, x, now, diag);
        if (err != KASA_OK)
            break;
        x->dirty = false;
        x->count = 0;
        n++;
    }
    if (n)
        s->last_modified = now;
    if (stored)
        *stored = n;
    return err;
}
