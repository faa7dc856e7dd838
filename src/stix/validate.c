/*
 * validate.c - kasa_stix_validate: one STIX 2.1 object checked as a careful
 * receiving partner would.  This file walks the object: its type and kind,
 * the common properties (section 3.2, which apply to which kind, and their
 * values), extensions, granular markings, external references, and the
 * names of custom properties; then it hands the object to its type's table
 * (validate_sdo.c, validate_sco.c, validate_meta.c).  It does not resolve
 * references between objects, and it stops at the first rule broken.
 */
#include <string.h>

#include "stix/stix_int.h"

/* Kinds as bits, for the table of common properties. */
#define K_SDO  (1u << KASA__STIX_SDO)
#define K_SRO  (1u << KASA__STIX_SRO)
#define K_SCO  (1u << KASA__STIX_SCO)
#define K_MARK (1u << KASA__STIX_MARKING)
#define K_LANG (1u << KASA__STIX_LANGUAGE)
#define K_EXT  (1u << KASA__STIX_EXTENSION)
#define K_CUST (1u << KASA__STIX_CUSTOM)
#define K_CORE (K_SDO | K_SRO)
#define K_ALL  (K_CORE | K_SCO | K_MARK | K_LANG | K_EXT | K_CUST)

/* What the extensions of an object declare (read before they are checked,
 * because they decide what a custom object is and what is custom). */
#define X_TOPLEVEL 0x1u /* toplevel-property-extension */
#define X_NEW_SDO  0x2u
#define X_NEW_SRO  0x4u
#define X_NEW_SCO  0x8u

static const char *const ref_identity[] = {"identity", NULL};
static const char *const ref_marking[] = {"marking-definition", NULL};

static const char *const extension_types[] = {"new-sdo",
                                              "new-sco",
                                              "new-sro",
                                              "property-extension",
                                              "toplevel-property-extension",
                                              NULL};

/* Property names reserved across all objects (section 3.8). */
static const char *const reserved_names[] = {"severity", "username",
                                             "phone_number", "action", NULL};

static kasa_err check_external_reference(kasa__stix_ctx *c, const json_t *o,
                                         const char *path);
static kasa_err check_granular_marking(kasa__stix_ctx *c, const json_t *o,
                                       const char *path);

static const kasa__stix_prop external_reference_props[] = {
    {"source_name", KASA__P_STRING, KASA__P_REQ | KASA__P_NONEMPTY, NULL, NULL,
     0, 0},
    {"description", KASA__P_STRING, 0, NULL, NULL, 0, 0},
    {"url", KASA__P_STRING, 0, NULL, NULL, 0, 0},
    {"hashes", KASA__P_HASHES, 0, NULL, NULL, 0, 0},
    {"external_id", KASA__P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};
static const kasa__stix_shape external_reference_shape = {
    external_reference_props, check_external_reference};

static const kasa__stix_prop granular_marking_props[] = {
    {"selectors", KASA__P_STRINGS, KASA__P_REQ, NULL, NULL, 0, 0},
    {"lang", KASA__P_STRING, 0, NULL, NULL, 0, 0},
    {"marking_ref", KASA__P_REF, 0, ref_marking, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};
static const kasa__stix_shape granular_marking_shape = {granular_marking_props,
                                                        check_granular_marking};

/* The common properties (section 3.2), which kinds may carry each and which
 * must.  Custom objects are SDO-like, SCO-like or undecided; see kind_of. */
typedef struct common_prop {
    kasa__stix_prop p;
    unsigned allowed;
    unsigned required;
} common_prop;

static const common_prop common_props[] = {
    {{"spec_version", KASA__P_STRING, 0, NULL, NULL, 0, 0},
     K_ALL,
     K_CORE | K_MARK | K_LANG | K_EXT},
    {{"created_by_ref", KASA__P_REF, 0, ref_identity, NULL, 0, 0},
     K_CORE | K_MARK | K_LANG | K_EXT | K_CUST,
     K_EXT},
    {{"created", KASA__P_TIME, 0, NULL, NULL, 0, 0},
     K_CORE | K_MARK | K_LANG | K_EXT | K_CUST,
     K_CORE | K_MARK | K_LANG | K_EXT},
    {{"modified", KASA__P_TIME, 0, NULL, NULL, 0, 0},
     K_CORE | K_LANG | K_EXT | K_CUST,
     K_CORE | K_LANG | K_EXT},
    {{"revoked", KASA__P_BOOL, 0, NULL, NULL, 0, 0},
     K_CORE | K_LANG | K_EXT | K_CUST,
     0},
    {{"labels", KASA__P_STRINGS, KASA__P_NONEMPTY, NULL, NULL, 0, 0},
     K_CORE | K_LANG | K_EXT | K_CUST,
     0},
    {{"confidence", KASA__P_INT, KASA__P_RANGE, NULL, NULL, 0, 100},
     K_CORE | K_LANG | K_CUST,
     0},
    {{"lang", KASA__P_STRING, 0, NULL, NULL, 0, 0}, K_CORE | K_CUST, 0},
    {{"external_references", KASA__P_OBJECTS, 0, NULL,
      &external_reference_shape, 0, 0},
     K_CORE | K_MARK | K_LANG | K_EXT | K_CUST,
     0},
    {{"object_marking_refs", KASA__P_REFS, 0, ref_marking, NULL, 0, 0},
     K_ALL,
     0},
    {{"granular_markings", KASA__P_OBJECTS, 0, NULL, &granular_marking_shape, 0,
      0},
     K_ALL,
     0},
    {{"defanged", KASA__P_BOOL, 0, NULL, NULL, 0, 0}, K_SCO | K_CUST, 0},
    {{"extensions", KASA__P_ANY, 0, NULL, NULL, 0, 0},
     K_CORE | K_SCO | K_MARK | K_LANG | K_CUST,
     0},
};
#define N_COMMON (sizeof(common_props) / sizeof(common_props[0]))

static const char *kind_name(kasa__stix_kind k)
{
    switch (k) {
    case KASA__STIX_SDO: return "a STIX Domain Object";
    case KASA__STIX_SRO: return "a STIX Relationship Object";
    case KASA__STIX_SCO: return "a cyber-observable (SCO)";
    case KASA__STIX_MARKING: return "a marking-definition";
    case KASA__STIX_LANGUAGE: return "a language-content object";
    case KASA__STIX_EXTENSION: return "an extension-definition";
    case KASA__STIX_CUSTOM: return "a custom object";
    }
    return "an object";
}

const kasa__stix_type *kasa__stix_type_find(const char *name)
{
    size_t i;

    for (i = 0; i < kasa__stix_sdo_ntypes; i++)
        if (strcmp(kasa__stix_sdo_types[i].name, name) == 0)
            return &kasa__stix_sdo_types[i];
    for (i = 0; i < kasa__stix_sco_ntypes; i++)
        if (strcmp(kasa__stix_sco_types[i].name, name) == 0)
            return &kasa__stix_sco_types[i];
    for (i = 0; i < kasa__stix_meta_ntypes; i++)
        if (strcmp(kasa__stix_meta_types[i].name, name) == 0)
            return &kasa__stix_meta_types[i];
    return NULL;
}

static bool in_list(const char *s, const char *const *list)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static bool is_common(const char *name)
{
    size_t i;

    /* the first byte before strcmp: each object's every key is looked up
     * here, and the calls were most of kasa_stix_prepare's strcmp time */
    if (strcmp(name, "type") == 0 || strcmp(name, "id") == 0)
        return true;
    for (i = 0; i < N_COMMON; i++)
        if (common_props[i].p.name[0] == name[0] &&
            strcmp(common_props[i].p.name, name) == 0)
            return true;
    return false;
}

/* -- extensions --------------------------------------------------------------
 */

static unsigned declared_extensions(const json_t *obj)
{
    const json_t *exts = json_object_get(obj, "extensions");
    const char *key, *et;
    json_t *val;
    unsigned x = 0;

    json_object_foreach((json_t *)exts, key, val)
    {
        if (strncmp(key, "extension-definition--", 22) != 0)
            continue;
        et = json_string_value(json_object_get(val, "extension_type"));
        if (et == NULL)
            continue;
        if (strcmp(et, "toplevel-property-extension") == 0)
            x |= X_TOPLEVEL;
        else if (strcmp(et, "new-sdo") == 0)
            x |= X_NEW_SDO;
        else if (strcmp(et, "new-sro") == 0)
            x |= X_NEW_SRO;
        else if (strcmp(et, "new-sco") == 0)
            x |= X_NEW_SCO;
    }
    return x;
}

static kasa_err check_extensions(kasa__stix_ctx *c, const json_t *exts)
{
    const kasa__stix_type *t = c->t;
    const char *key;
    json_t *val;
    char p[200], q[220], shown[96];
    size_t i;
    kasa_err err;
    kasa__stix_prop et_prop = {
        "extension_type", KASA__P_ENUM, 0, extension_types, NULL, 0, 0};

    if (!json_is_object(exts))
        return kasa__stix_fail(c->d, "extensions", "type",
                               "extensions must be a dictionary, not %s",
                               kasa__stix_show(exts, shown, sizeof(shown)));
    if (json_object_size(exts) == 0)
        return kasa__stix_fail(c->d, "extensions", "empty",
                               "extensions is an empty dictionary: STIX "
                               "forbids them; leave the property out");
    json_object_foreach((json_t *)exts, key, val)
    {
        const json_t *et;

        kasa__stix_path(p, sizeof(p), "extensions", key);
        if (!json_is_object(val))
            return kasa__stix_fail(c->d, p, "type",
                                   "%s must be an object holding the "
                                   "extension's properties, not %s",
                                   p,
                                   kasa__stix_show(val, shown, sizeof(shown)));
        if (json_object_size(val) == 0)
            return kasa__stix_fail(c->d, p, "empty",
                                   "%s is empty: an extension must hold at "
                                   "least one property",
                                   p);
        if (strncmp(key, "extension-definition--", 22) == 0) {
            size_t tl;

            if (!kasa__stix_id_ok(key, strlen(key), &tl))
                return kasa__stix_fail(c->d, p, "id-format",
                                       "extension key \"%.100s\" is not an "
                                       "extension-definition identifier "
                                       "(\"extension-definition--UUID\")",
                                       key);
            et = json_object_get(val, "extension_type");
            kasa__stix_path(q, sizeof(q), p, "extension_type");
            if (et == NULL)
                return kasa__stix_fail(c->d, q, "required",
                                       "%s is required when an extension is "
                                       "keyed by an extension-definition id",
                                       q);
            err = kasa__stix_check_value(c, et, q, &et_prop);
            if (err != KASA_OK)
                return err;
            continue;
        }
        for (i = 0; t != NULL && t->ext_names != NULL && t->ext_names[i]; i++)
            if (strcmp(t->ext_names[i], key) == 0)
                break;
        if (t == NULL || t->ext_names == NULL || t->ext_names[i] == NULL)
            return kasa__stix_fail(c->d, p, "extension",
                                   "extension \"%.100s\" is neither the id of "
                                   "an extension-definition nor a predefined "
                                   "extension of %s",
                                   key, c->type);
        if (t->ext_shapes[i] != NULL) {
            err = kasa__stix_check_shape(c, val, p, t->ext_shapes[i]);
            if (err != KASA_OK)
                return err;
        }
    }
    return KASA_OK;
}

/* -- external references, granular markings -------------------------------- */

static bool capec_ok(const char *s)
{
    size_t i;

    if (strncmp(s, "CAPEC-", 6) != 0 || s[6] == '\0')
        return false;
    for (i = 6; s[i] != '\0'; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* CVE-YYYY-NNNN, four or more digits in the sequence number. */
static bool cve_ok(const char *s)
{
    size_t i;

    if (strncmp(s, "CVE-", 4) != 0)
        return false;
    for (i = 4; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (s[8] != '-')
        return false;
    for (i = 9; s[i] != '\0'; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return i >= 13;
}

/* An absolute URI (RFC 3986): a scheme, ':', and no whitespace. */
static bool url_ok(const char *s)
{
    size_t i;

    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (i = 1; s[i] != ':'; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.'))
            return false;
    }
    for (i++; s[i] != '\0'; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static kasa_err check_external_reference(kasa__stix_ctx *c, const json_t *o,
                                         const char *path)
{
    static const char *const one[] = {"description", "url", "external_id",
                                      NULL};
    const char *source = json_string_value(json_object_get(o, "source_name"));
    const char *xid = json_string_value(json_object_get(o, "external_id"));
    const char *url = json_string_value(json_object_get(o, "url"));
    char p[200];
    kasa_err err;

    err = kasa__stix_one_of(c, o, path, one);
    if (err != KASA_OK)
        return err;
    if (url != NULL && !url_ok(url))
        return kasa__stix_fail(c->d, kasa__stix_path(p, sizeof(p), path, "url"),
                               "format",
                               "%s is \"%.80s\", not an absolute URL "
                               "(scheme:..., no spaces)",
                               p, url);
    if (xid == NULL)
        return KASA_OK;
    kasa__stix_path(p, sizeof(p), path, "external_id");
    if (strcmp(source, "capec") == 0 && !capec_ok(xid))
        return kasa__stix_fail(c->d, p, "format",
                               "%s is \"%.80s\": a capec reference's id must "
                               "be CAPEC-[id], e.g. CAPEC-163",
                               p, xid);
    if (strcmp(source, "cve") == 0 && !cve_ok(xid))
        return kasa__stix_fail(c->d, p, "format",
                               "%s is \"%.80s\": a cve reference's id must be "
                               "CVE-YYYY-NNNN, e.g. CVE-2014-0160",
                               p, xid);
    return KASA_OK;
}

/* Does the selector name something present on the object (section 7.2.3)? */
static bool selector_resolves(const json_t *obj, const char *sel)
{
    const json_t *cur = obj;
    char key[256];
    const char *s = sel, *dot;
    size_t n;

    if (*s == '\0')
        return false;
    for (;;) {
        dot = strchr(s, '.');
        n = dot != NULL ? (size_t)(dot - s) : strlen(s);
        if (n == 0 || n >= sizeof(key))
            return false;
        if (s[0] == '[') {
            size_t i, idx = 0;

            if (n < 3 || s[n - 1] != ']' || !json_is_array(cur))
                return false;
            for (i = 1; i < n - 1; i++) {
                if (s[i] < '0' || s[i] > '9' || idx > 100000000)
                    return false;
                idx = idx * 10 + (size_t)(s[i] - '0');
            }
            cur = json_array_get(cur, idx);
        } else {
            if (!json_is_object(cur))
                return false;
            memcpy(key, s, n);
            key[n] = '\0';
            cur = json_object_get(cur, key);
        }
        if (cur == NULL)
            return false;
        if (dot == NULL)
            return true;
        s = dot + 1;
    }
}

static kasa_err check_granular_marking(kasa__stix_ctx *c, const json_t *o,
                                       const char *path)
{
    const json_t *sels = json_object_get(o, "selectors");
    const json_t *lang = json_object_get(o, "lang");
    const char *mref = json_string_value(json_object_get(o, "marking_ref"));
    const char *id = json_string_value(json_object_get(c->obj, "id"));
    char p[200];
    size_t i;

    if (lang != NULL && json_object_get(o, "marking_ref") != NULL)
        return kasa__stix_fail(
            c->d, kasa__stix_path(p, sizeof(p), path, "lang"), "exclusive",
            "%s has both lang and marking_ref: a granular "
            "marking applies exactly one of them",
            path);
    if (lang == NULL && mref == NULL)
        return kasa__stix_fail(
            c->d, kasa__stix_path(p, sizeof(p), path, "marking_ref"),
            "required",
            "%s needs marking_ref or lang: a granular "
            "marking applies exactly one of them",
            path);
    if (lang != NULL &&
        !kasa__stix_lang_ok(json_string_value(lang), json_string_length(lang)))
        return kasa__stix_fail(
            c->d, kasa__stix_path(p, sizeof(p), path, "lang"), "lang",
            "%s is \"%.64s\", not an RFC 5646 language "
            "tag (e.g. \"en\", \"de-CH\")",
            p, json_string_value(lang));
    if (c->kind == KASA__STIX_MARKING && mref != NULL && id != NULL &&
        strcmp(mref, id) == 0)
        return kasa__stix_fail(
            c->d, kasa__stix_path(p, sizeof(p), path, "marking_ref"),
            "circular",
            "%s refers to this marking-definition itself; "
            "a marking must not mark itself",
            p);
    for (i = 0; i < json_array_size(sels); i++) {
        const char *sel = json_string_value(json_array_get(sels, i));

        if (!selector_resolves(c->obj, sel)) {
            char q[220];

            kasa__stix_path(p, sizeof(p), path, "selectors");
            kasa__stix_path_at(q, sizeof(q), p, i);
            return kasa__stix_fail(c->d, q, "selector",
                                   "%s is \"%.80s\", which selects nothing "
                                   "present on the object: selectors must "
                                   "name properties, keys and [n] list items "
                                   "that exist",
                                   q, sel);
        }
    }
    return KASA_OK;
}

/* -- the object as a whole ----------------------------------------------------
 */

/* What kind a custom object is: by the extension that defines it, else by
 * whether it is versioned like an SDO. */
static kasa__stix_kind custom_kind(const json_t *obj, unsigned x)
{
    if (x & (X_NEW_SDO | X_NEW_SRO))
        return KASA__STIX_SDO;
    if (x & X_NEW_SCO)
        return KASA__STIX_SCO;
    if (json_object_get(obj, "created") != NULL ||
        json_object_get(obj, "modified") != NULL)
        return KASA__STIX_SDO;
    return KASA__STIX_CUSTOM;
}

static kasa_err check_type_and_id(kasa__stix_ctx *c)
{
    const json_t *type = json_object_get(c->obj, "type");
    const json_t *id = json_object_get(c->obj, "id");
    const char *ids;
    size_t tl;
    char shown[96];

    if (!json_is_object(c->obj))
        return kasa__stix_fail(c->d, "", "type",
                               "a STIX object must be a JSON object, not %s",
                               kasa__stix_show(c->obj, shown, sizeof(shown)));
    if (type == NULL)
        return kasa__stix_fail(c->d, "type", "required",
                               "type is required: every STIX object names "
                               "its type");
    if (!json_is_string(type))
        return kasa__stix_fail(c->d, "type", "type",
                               "type must be a string, not %s",
                               kasa__stix_show(type, shown, sizeof(shown)));
    c->type = json_string_value(type);
    if (!kasa__stix_type_name_ok(c->type, json_string_length(type)))
        return kasa__stix_fail(c->d, "type", "type-name",
                               "type %s is not a valid type name: 3-250 "
                               "characters of a-z, 0-9 and '-', starting with "
                               "a letter, no \"--\", not ending with '-'",
                               kasa__stix_show(type, shown, sizeof(shown)));
    if (strcmp(c->type, "bundle") == 0)
        return kasa__stix_fail(c->d, "type", "type-name",
                               "a bundle is a container, not a STIX object: "
                               "validate the objects it holds");
    if (id == NULL)
        return kasa__stix_fail(c->d, "id", "required",
                               "id is required: \"%s--\" followed by a UUID",
                               c->type);
    if (!json_is_string(id))
        return kasa__stix_fail(c->d, "id", "type",
                               "id must be a string, not %s",
                               kasa__stix_show(id, shown, sizeof(shown)));
    ids = json_string_value(id);
    if (!kasa__stix_id_ok(ids, json_string_length(id), &tl))
        return kasa__stix_fail(c->d, "id", "id-format",
                               "id %s is not \"%s--\" followed by an RFC "
                               "4122 UUID",
                               kasa__stix_show(id, shown, sizeof(shown)),
                               c->type);
    if (tl != strlen(c->type) || strncmp(ids, c->type, tl) != 0)
        return kasa__stix_fail(
            c->d, "id", "id-type", "id %s must start with its type, \"%s--\"",
            kasa__stix_show(id, shown, sizeof(shown)), c->type);
    return KASA_OK;
}

static kasa_err check_common(kasa__stix_ctx *c)
{
    unsigned bit = 1u << c->kind;
    const json_t *v;
    char shown[96];
    unsigned frac;
    size_t i;
    kasa_err err;

    for (i = 0; i < N_COMMON; i++) {
        const common_prop *cp = &common_props[i];
        const char *name = cp->p.name;

        v = json_object_get(c->obj, name);
        if (v == NULL) {
            if (!(cp->required & bit))
                continue;
            if (strcmp(name, "spec_version") == 0)
                return kasa__stix_fail(c->d, name, "required",
                                       "spec_version is required on %s: "
                                       "\"2.1\" (an object without one is "
                                       "STIX 2.0; map it with "
                                       "kasa_stix_upgrade)",
                                       kind_name(c->kind));
            return kasa__stix_fail(c->d, name, "required",
                                   "%s is required on %s", name,
                                   kind_name(c->kind));
        }
        if (!(cp->allowed & bit))
            return kasa__stix_fail(c->d, name, "reserved",
                                   "%s is not a property of %s (%s); remove "
                                   "it",
                                   name, kind_name(c->kind), c->type);
        if (strcmp(name, "extensions") == 0) {
            err = check_extensions(c, v);
            if (err != KASA_OK)
                return err;
            continue;
        }
        err = kasa__stix_check_value(c, v, name, &cp->p);
        if (err != KASA_OK)
            return err;
        if (strcmp(name, "spec_version") == 0 &&
            strcmp(json_string_value(v), "2.1") != 0)
            return kasa__stix_fail(c->d, name, "spec-version",
                                   "spec_version is %s; a STIX 2.1 object "
                                   "says \"2.1\"",
                                   kasa__stix_show(v, shown, sizeof(shown)));
        if ((strcmp(name, "created") == 0 || strcmp(name, "modified") == 0) &&
            kasa__stix_timestamp(json_string_value(v), json_string_length(v),
                                 NULL, &frac) &&
            frac < 3)
            return kasa__stix_fail(c->d, name, "precision",
                                   "%s is %s: it must be precise to at least "
                                   "the millisecond (three digits after the "
                                   "seconds, e.g. \"...:27.000Z\")",
                                   name,
                                   kasa__stix_show(v, shown, sizeof(shown)));
        if (strcmp(name, "lang") == 0 &&
            !kasa__stix_lang_ok(json_string_value(v), json_string_length(v)))
            return kasa__stix_fail(c->d, name, "lang",
                                   "lang is %s, not an RFC 5646 language tag "
                                   "(e.g. \"en\", \"de-CH\")",
                                   kasa__stix_show(v, shown, sizeof(shown)));
        if (strcmp(name, "object_marking_refs") == 0 &&
            c->kind == KASA__STIX_MARKING) {
            const char *id = json_string_value(json_object_get(c->obj, "id"));
            size_t j;

            for (j = 0; j < json_array_size(v); j++) {
                const char *r = json_string_value(json_array_get(v, j));
                char p[64];

                if (strcmp(r, id) == 0)
                    return kasa__stix_fail(
                        c->d, kasa__stix_path_at(p, sizeof(p), name, j),
                        "circular",
                        "object_marking_refs[%zu] refers to this "
                        "marking-definition itself; a marking must not mark "
                        "itself",
                        j);
            }
        }
    }
    return kasa__stix_order(c, c->obj, "", "created", "modified", false);
}

/* Is `name` a property of this object's type (its table or, for SCOs, a
 * property its predefined extensions do not own)? */
static bool type_has(const kasa__stix_type *t, const char *name)
{
    const kasa__stix_prop *p;

    if (t == NULL || t->shape == NULL)
        return false;
    for (p = t->shape->props; p != NULL && p->name != NULL; p++)
        if (p->name[0] == name[0] && strcmp(p->name, name) == 0)
            return true;
    return false;
}

static kasa_err check_property_names(kasa__stix_ctx *c, unsigned x)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)c->obj, key, val)
    {
        size_t n = strlen(key);

        if (is_common(key) || type_has(c->t, key))
            continue;
        if (in_list(key, reserved_names))
            return kasa__stix_fail(c->d, key, "reserved",
                                   "%s is a reserved property name in STIX "
                                   "2.1 and must not be used",
                                   key);
        if (!kasa__stix_prop_name_ok(key, n))
            return kasa__stix_fail(c->d, key, "custom-name",
                                   "custom property name \"%.100s\" is not "
                                   "allowed: 3-250 characters of a-z, 0-9 and "
                                   "'_', starting with a letter",
                                   key);
        /* A custom type's own properties and those a top-level property
         * extension adds are not custom properties. */
        if ((c->flags & KASA_STIX_STRICT) && c->t != NULL &&
            !(x & X_TOPLEVEL) && strncmp(key, "x_", 2) != 0)
            return kasa__stix_fail(c->d, key, "custom-prefix",
                                   "custom property \"%.100s\" is not defined "
                                   "for %s; in strict mode custom properties "
                                   "must start with \"x_\"",
                                   key, c->type);
    }
    return KASA_OK;
}

static kasa_err validate(kasa__stix_ctx *c)
{
    unsigned x;
    kasa_err err;

    err = check_type_and_id(c);
    if (err != KASA_OK)
        return err;
    x = declared_extensions(c->obj);
    c->t = kasa__stix_type_find(c->type);
    c->kind = c->t != NULL ? c->t->kind : custom_kind(c->obj, x);
    if (c->t == NULL && (c->flags & KASA_STIX_STRICT) &&
        !(x & (X_NEW_SDO | X_NEW_SRO | X_NEW_SCO)) &&
        strncmp(c->type, "x-", 2) != 0)
        return kasa__stix_fail(c->d, "type", "custom-prefix",
                               "type \"%s\" is not a STIX 2.1 type; in strict "
                               "mode a custom type must start with \"x-\" or "
                               "be defined by an extension-definition "
                               "(extension_type new-sdo, new-sco or new-sro)",
                               c->type);
    err = check_common(c);
    if (err != KASA_OK)
        return err;
    err = check_property_names(c, x);
    if (err != KASA_OK)
        return err;
    if (c->t != NULL && c->t->shape != NULL)
        return kasa__stix_check_shape(c, c->obj, "", c->t->shape);
    return KASA_OK;
}

kasa_err kasa_stix_validate(const json_t *obj, unsigned flags,
                            kasa_stix_diag *d)
{
    kasa__stix_ctx c;
    kasa_err err;

    memset(&c, 0, sizeof(c));
    c.obj = obj;
    c.flags = flags;
    c.d = d;
    c.kind = KASA__STIX_CUSTOM;
    err = validate(&c);
    if (err != KASA_OK && d != NULL) {
        d->code = err;
        kasa__stix_diag_id(d, obj);
    }
    return err;
}
