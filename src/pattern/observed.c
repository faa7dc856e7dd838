/*
 * observed.c - reading observed data for the evaluator: bundles, lists of
 * bundles, observed-data objects and lists of them, in the STIX 2.1 form
 * (SCOs named by object_refs and carried in the same bundle) and the 2.0
 * form (SCOs embedded in an "objects" dictionary).  Each observed-data
 * becomes an od_obs: its interval, its count, its root objects and the
 * key -> object map that _ref and _refs resolve against.  What a pattern
 * asks of the objects is eval.c's business.
 */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"
#include "pattern/pattern_int.h"

typedef struct reader {
    kasa_observed *od;
    size_t cap;
    kasa_diag *diag;
} reader;

static kasa_err data_error(reader *r, size_t index, const char *what,
                           const char *detail)
{
    return kasa__diag_at(r->diag, KASA_EDATA, NULL, 0, 0, 0,
                         "observed-data #%zu: %s%s%s", index, what,
                         detail ? ": " : "", detail ? detail : "");
}

static kasa_err add_object(od_obs *o, size_t *cap, json_t *obj)
{
    json_t *type;

    if (o->nobjs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        od_object *n = realloc(o->objs, ncap * sizeof(*n));
        if (!n)
            return KASA_ENOMEM;
        o->objs = n;
        *cap = ncap;
    }
    type = json_object_get(obj, "type");
    o->objs[o->nobjs].obj = obj;
    o->objs[o->nobjs].type =
        json_is_string(type) ? json_string_value(type) : NULL;
    o->objs[o->nobjs].typelen =
        json_is_string(type) ? json_string_length(type) : 0;
    o->nobjs++;
    return KASA_OK;
}

static bool get_time(json_t *sdo, const char *key, kasa__time *t)
{
    json_t *v = json_object_get(sdo, key);

    return json_is_string(v) &&
           kasa__time_parse(json_string_value(v), json_string_length(v), true,
                            t);
}

/* One observed-data; `bundle_index` maps ids to objects of its bundle
 * (NULL when it came without a bundle). */
static kasa_err add_observed(reader *r, json_t *sdo, json_t *bundle_index)
{
    kasa_observed *od = r->od;
    od_obs *o;
    json_t *n, *objects, *refs, *id;
    size_t idx = od->nobs, cap = 0, i;
    kasa_err err;

    if (od->nobs == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 4;
        od_obs *nv = realloc(od->obs, ncap * sizeof(*nv));
        if (!nv)
            return KASA_ENOMEM;
        od->obs = nv;
        r->cap = ncap;
    }
    o = &od->obs[od->nobs++];
    memset(o, 0, sizeof(*o));
    o->sdo = sdo;
    id = json_object_get(sdo, "id");
    o->id = json_is_string(id) ? json_string_value(id) : NULL;

    if (!get_time(sdo, "first_observed", &o->first))
        return data_error(
            r, idx, "first_observed is missing or not a timestamp",
            json_string_value(json_object_get(sdo, "first_observed")));
    if (!get_time(sdo, "last_observed", &o->last))
        return data_error(
            r, idx, "last_observed is missing or not a timestamp",
            json_string_value(json_object_get(sdo, "last_observed")));
    if (kasa__time_cmp(o->first, o->last) > 0)
        return data_error(r, idx,
                          "last_observed is earlier than first_observed", NULL);
    n = json_object_get(sdo, "number_observed");
    if (!json_is_integer(n) || json_integer_value(n) < 1)
        return data_error(r, idx, "number_observed must be an integer >= 1",
                          NULL);
    o->number_observed = (uint64_t)json_integer_value(n);

    objects = json_object_get(sdo, "objects");
    refs = json_object_get(sdo, "object_refs");
    if (json_is_object(objects) &&
        !(json_is_array(refs) && json_array_size(refs))) {
        const char *key;
        json_t *obj;
        o->by_key = json_incref(objects);
        json_object_foreach(objects, key, obj)
        {
            if (!json_is_object(obj))
                continue;
            err = add_object(o, &cap, obj);
            if (err != KASA_OK)
                return err;
        }
    } else if (json_is_array(refs)) {
        /* 2.1: object_refs wins over an (empty, deprecated) objects */
        json_t *ref;
        o->by_key = json_object();
        if (!o->by_key)
            return KASA_ENOMEM;
        json_array_foreach(refs, i, ref)
        {
            json_t *obj;
            if (!json_is_string(ref))
                return data_error(r, idx, "object_refs holds a non-string",
                                  NULL);
            obj = bundle_index
                      ? json_object_get(bundle_index, json_string_value(ref))
                      : NULL;
            if (!json_is_object(obj))
                continue; /* a reference this input does not carry */
            if (json_object_get(o->by_key, json_string_value(ref)))
                continue;
            if (json_object_set(o->by_key, json_string_value(ref), obj) != 0)
                return KASA_ENOMEM;
            err = add_object(o, &cap, obj);
            if (err != KASA_OK)
                return err;
        }
    } else if (objects || refs) {
        return data_error(r, idx,
                          "objects must be a dictionary and object_refs a list",
                          NULL);
    }
    return KASA_OK;
}

static kasa_err add_bundle(reader *r, json_t *bundle)
{
    json_t *objects = json_object_get(bundle, "objects"), *obj, *index;
    size_t i;
    kasa_err err = KASA_OK;

    if (!objects)
        return KASA_OK; /* an empty bundle */
    if (!json_is_array(objects))
        return kasa__diag_at(r->diag, KASA_EDATA, NULL, 0, 0, 0,
                             "bundle: objects must be a list");
    index = json_object();
    if (!index)
        return KASA_ENOMEM;
    json_array_foreach(objects, i, obj)
    {
        json_t *id = json_object_get(obj, "id");
        if (json_is_string(id) &&
            json_object_set(index, json_string_value(id), obj))
            err = KASA_ENOMEM;
    }
    json_array_foreach(objects, i, obj)
    {
        json_t *type = json_object_get(obj, "type");
        if (err != KASA_OK)
            break;
        if (json_is_string(type) &&
            strcmp(json_string_value(type), "observed-data") == 0)
            err = add_observed(r, obj, index);
    }
    json_decref(index);
    return err;
}

static bool is_bundle(json_t *v)
{
    json_t *type = json_object_get(v, "type");

    return json_is_string(type) &&
           strcmp(json_string_value(type), "bundle") == 0;
}

static kasa_err add_item(reader *r, json_t *v)
{
    if (!json_is_object(v))
        return kasa__diag_at(r->diag, KASA_EDATA, NULL, 0, 0, 0,
                             "expected a bundle or an observed-data object, "
                             "found a JSON %s",
                             json_is_array(v)    ? "list"
                             : json_is_string(v) ? "string"
                             : json_is_number(v) ? "number"
                                                 : "value");
    if (is_bundle(v))
        return add_bundle(r, v);
    {
        json_t *type = json_object_get(v, "type");
        const char *t = json_string_value(type);
        /* "cybox-container" and typeless objects are 2.0-era observed data */
        if (t && strcmp(t, "observed-data") != 0 &&
            !json_object_get(v, "objects") &&
            !json_object_get(v, "first_observed"))
            return kasa__diag_at(
                r->diag, KASA_EDATA, NULL, 0, 0, 0,
                "expected a bundle or an observed-data object, "
                "found an object of type '%.64s'",
                t);
    }
    return add_observed(r, v, NULL);
}

kasa_err kasa_observed_parse(const char *json, size_t len,
                             kasa_stix_version version, kasa_observed **out,
                             kasa_diag *diag)
{
    kasa_observed *od;
    json_error_t jerr;
    reader r;
    kasa_err err = KASA_OK;

    if (!out || (!json && len))
        return kasa__diag_at(diag, KASA_EINVAL, NULL, 0, 0, 0,
                             "kasa_observed_parse: NULL argument");
    *out = NULL;
    if (len > KASA_OBSERVED_MAX_LEN)
        return kasa__diag_at(diag, KASA_ELIMIT, NULL, 0, 0, 0,
                             "observed data is %zu bytes; the limit is %zu",
                             len, (size_t)KASA_OBSERVED_MAX_LEN);
    od = calloc(1, sizeof(*od));
    if (!od)
        return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    od->version = version;
    od->root = json_loadb(json ? json : "", len, 0, &jerr);
    if (!od->root) {
        free(od);
        /* jansson fails without a message, or with this one, when it
         * cannot allocate */
        if (jerr.text[0] == '\0' || strstr(jerr.text, "out of memory"))
            return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0,
                                 "out of memory while reading JSON");
        return kasa__diag_at(diag, KASA_EJSON, json, len, (size_t)jerr.position,
                             0, "%s", jerr.text);
    }
    memset(&r, 0, sizeof(r));
    r.od = od;
    r.diag = diag;
    if (json_is_array(od->root)) {
        json_t *v;
        size_t i;
        json_array_foreach(od->root, i, v)
        {
            err = add_item(&r, v);
            if (err != KASA_OK)
                break;
        }
    } else {
        err = add_item(&r, od->root);
    }
    if (err != KASA_OK) {
        if (err == KASA_ENOMEM)
            kasa__diag_at(diag, err, NULL, 0, 0, 0, "out of memory");
        kasa_observed_free(od);
        return err;
    }
    *out = od;
    return KASA_OK;
}

kasa_err kasa__observed_from_sdo(json_t *sdo, kasa_stix_version version,
                                 kasa_observed **out, kasa_diag *diag)
{
    kasa_observed *od = calloc(1, sizeof(*od));
    reader r;
    kasa_err err;

    *out = NULL;
    if (!od) {
        json_decref(sdo);
        return kasa__diag_at(diag, KASA_ENOMEM, NULL, 0, 0, 0, "out of memory");
    }
    od->version = version;
    od->root = sdo;
    memset(&r, 0, sizeof(r));
    r.od = od;
    r.diag = diag;
    err = add_observed(&r, sdo, NULL);
    if (err != KASA_OK) {
        kasa_observed_free(od);
        return err;
    }
    *out = od;
    return KASA_OK;
}

void kasa_observed_free(kasa_observed *od)
{
    size_t i;

    if (!od)
        return;
    for (i = 0; i < od->nobs; i++) {
        free(od->obs[i].objs);
        json_decref(od->obs[i].by_key);
    }
    free(od->obs);
    json_decref(od->root);
    free(od);
}

size_t kasa_observed_count(const kasa_observed *od)
{
    return od ? od->nobs : 0;
}

const char *kasa_observed_id(const kasa_observed *od, size_t i)
{
    return od && i < od->nobs ? od->obs[i].id : NULL;
}
