/*
 * prepare.c - one object on its way into the store, the same for every
 * path that adds (kasa import, the TAXII server, benchmarks): a STIX 2.0
 * object mapped to 2.1, the object validated, its facts read, and all of
 * it packed with its text in one buffer that kasa_store_add can take.
 * Storing it is src/store/'s business.
 */
#include <stdlib.h>
#include <string.h>

#include "kasa/stix.h"
#include "kasa/store.h"

/* Copy `src` to *p, advance *p past its NUL, return the copy. */
static const char *put(char **p, const char *src)
{
    size_t l = strlen(src) + 1;
    char *at = *p;

    memcpy(at, src, l);
    *p += l;
    return at;
}

kasa_err kasa_stix_prepare(json_t *obj, const char *raw, size_t raw_len,
                           unsigned flags, struct kasa_store_object *o,
                           char **buf, kasa_stix_diag *d)
{
    const char *sv = kasa_stix_spec_version(obj);
    char *upgraded = NULL, *p;
    kasa_stix_sharing sh = {0};
    kasa_stix_meta m;
    kasa_err err;
    size_t n;

    *buf = NULL;
    if (sv != NULL && strcmp(sv, "2.0") == 0) {
        err = kasa_stix_upgrade(obj, d);
        if (err != KASA_OK)
            return err;
        /* not as received any more: the 2.1 form is what is stored */
        upgraded = json_dumps(obj, JSON_COMPACT);
        if (upgraded == NULL)
            return KASA_ENOMEM;
        raw = upgraded;
        raw_len = strlen(upgraded);
    }
    err = kasa_stix_validate(obj, flags, d);
    if (err == KASA_OK)
        err = kasa_stix_meta_get(obj, &m, d);
    if (err == KASA_OK)
        err = kasa_stix_sharing_get(obj, &sh);
    if (err != KASA_OK)
        goto out;
    /* the strings of m point into obj: copy them next to the text */
    n = raw_len + 1 + strlen(m.id) + strlen(m.type) + strlen(m.spec_version) +
        strlen(m.version_key) + (m.version ? strlen(m.version) : 0) +
        (sh.created_by ? strlen(sh.created_by) : 0) +
        (sh.markings ? strlen(sh.markings) : 0) +
        (sh.recipients ? strlen(sh.recipients) : 0) + 8;
    *buf = malloc(n);
    if (*buf == NULL) {
        err = KASA_ENOMEM;
        goto out;
    }
    memcpy(*buf, raw, raw_len);
    (*buf)[raw_len] = '\0';
    p = *buf + raw_len + 1;
    memset(o, 0, sizeof(*o));
    o->json = *buf;
    o->json_len = raw_len;
    o->id = put(&p, m.id);
    o->type = put(&p, m.type);
    o->spec_version = put(&p, m.spec_version);
    o->version_key = put(&p, m.version_key);
    o->version = m.version ? put(&p, m.version) : NULL;
    o->revoked = m.revoked;
    o->valid_from_us = m.valid_from_us;
    o->valid_until_us = m.valid_until_us;
    o->tlp = (int)sh.tlp;
    o->created_by = sh.created_by ? put(&p, sh.created_by) : NULL;
    o->markings = sh.markings ? put(&p, sh.markings) : NULL;
    o->recipients = sh.recipients ? put(&p, sh.recipients) : NULL;
out:
    kasa_stix_sharing_fini(&sh);
    free(upgraded);
    return err;
}
