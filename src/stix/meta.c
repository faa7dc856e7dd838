/*
 * meta.c - the facts about an object version that the store keys and
 * filters by (id, type, spec_version, version, revocation, an indicator's
 * validity window), and STIX timestamps as microseconds.  Whether an
 * object is valid is validate.c's business, not this file's.
 */
#include <string.h>

#include "core/core.h"
#include "kasa/stix.h"

static void meta_fail(kasa_stix_diag *d, const json_t *obj,
                      const char *property, const char *rule,
                      const char *message)
{
    const char *id;

    if (d == NULL)
        return;
    d->code = KASA_EINVALID;
    id = json_string_value(json_object_get(obj, "id"));
    snprintf(d->id, sizeof(d->id), "%s", id != NULL ? id : "");
    snprintf(d->property, sizeof(d->property), "%s", property);
    snprintf(d->rule, sizeof(d->rule), "%s", rule);
    snprintf(d->message, sizeof(d->message), "%s", message);
}

const char *kasa_stix_spec_version(const json_t *obj)
{
    const char *v;

    if (!json_is_string(json_object_get(obj, "type")))
        return NULL;
    v = json_string_value(json_object_get(obj, "spec_version"));
    if (v != NULL)
        return v;
    /*
     * 2.1 (section 3.2): an SDO or SRO without spec_version is 2.0; a
     * cyber-observable without one is 2.1.  Every 2.0 top-level object
     * has `created` (it was required of all of them) and no SCO has one,
     * so `created` tells the two apart without a list of types.
     */
    return json_object_get(obj, "created") != NULL ? "2.0" : "2.1";
}

bool kasa_stix_time_us(const char *s, int64_t *us)
{
    kasa__time t;

    if (s == NULL || !kasa__time_parse(s, strlen(s), true, &t))
        return false;
    *us = t.sec * 1000000 + t.nsec / 1000;
    return true;
}

void kasa_stix_time_format_us(int64_t us, char out[32])
{
    kasa__time t;
    char buf[40];

    t.sec = us / 1000000;
    t.nsec = (int32_t)(us % 1000000) * 1000;
    if (t.nsec < 0) {
        t.sec--;
        t.nsec += 1000000000;
    }
    kasa__time_format(t, 6, buf);
    memcpy(out, buf, 28);
}

bool kasa_stix_version_key(const char *s, char out[32])
{
    kasa__time t;
    char key[40];

    if (s == NULL || !kasa__time_parse(s, strlen(s), true, &t))
        return false;
    kasa__time_format(t, 9, key);
    memcpy(out, key, 31); /* 30 characters and the NUL */
    return true;
}

kasa_err kasa_stix_meta_get(const json_t *obj, kasa_stix_meta *m,
                            kasa_stix_diag *d)
{
    const char *s;
    int64_t us;

    memset(m, 0, sizeof(*m));
    m->valid_from_us = INT64_MIN;
    m->valid_until_us = INT64_MAX;
    m->id = json_string_value(json_object_get(obj, "id"));
    m->type = json_string_value(json_object_get(obj, "type"));
    if (m->type == NULL) {
        meta_fail(d, obj, "type", "required", "the object has no type");
        return KASA_EINVALID;
    }
    if (m->id == NULL) {
        meta_fail(d, obj, "id", "required", "the object has no id");
        return KASA_EINVALID;
    }
    m->spec_version = kasa_stix_spec_version(obj);
    s = json_string_value(json_object_get(obj, "modified"));
    if (s == NULL)
        s = json_string_value(json_object_get(obj, "created"));
    m->version = s;
    if (s != NULL && !kasa_stix_version_key(s, m->version_key)) {
        meta_fail(d, obj,
                  json_object_get(obj, "modified") ? "modified" : "created",
                  "timestamp", "the version is not a STIX timestamp");
        return KASA_EINVALID;
    }
    m->revoked = json_is_true(json_object_get(obj, "revoked"));
    if (strcmp(m->type, "indicator") == 0) {
        if (kasa_stix_time_us(
                json_string_value(json_object_get(obj, "valid_from")), &us))
            m->valid_from_us = us;
        if (kasa_stix_time_us(
                json_string_value(json_object_get(obj, "valid_until")), &us))
            m->valid_until_us = us;
    }
    return KASA_OK;
}
