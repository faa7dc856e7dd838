/*
 * upgrade.c - a STIX 2.0 object mapped to STIX 2.1 in place, where the 2.1
 * specification (OASIS Standard, 10 June 2021; section numbers below are
 * its) says how a 2.0 property became a 2.1 one.  Most 2.0 objects are
 * valid 2.1 once they say spec_version "2.1"; five carried their type in
 * the generic `labels` property, which 2.1 moved to a property of its own,
 * and 2.1 made an indicator name its pattern language.  Not for: checking
 * that the result is valid 2.1 (validate.c), or bundles (the reader takes
 * their objects out, and a 2.1 bundle has no spec_version of its own).
 *
 * The object is checked before it is changed, so a refusal (KASA_EINVALID)
 * leaves it as it was; only running out of memory (KASA_ENOMEM) can leave
 * it half mapped, and then it should be thrown away.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "kasa/pattern.h"
#include "kasa/stix.h"

KASA__PRINTF(5, 6)
static kasa_err refuse(kasa_stix_diag *d, const json_t *obj,
                       const char *property, const char *rule, const char *fmt,
                       ...)
{
    const char *id;
    va_list ap;

    if (d == NULL)
        return KASA_EINVALID;
    d->code = KASA_EINVALID;
    id = json_string_value(json_object_get(obj, "id"));
    snprintf(d->id, sizeof(d->id), "%s", id != NULL ? id : "");
    snprintf(d->property, sizeof(d->property), "%s", property);
    snprintf(d->rule, sizeof(d->rule), "%s", rule);
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof(d->message), fmt, ap);
    va_end(ap);
    return KASA_EINVALID;
}

static kasa_err nomem(kasa_stix_diag *d, const json_t *obj)
{
    const char *id;

    if (d != NULL) {
        d->code = KASA_ENOMEM;
        id = json_string_value(json_object_get(obj, "id"));
        snprintf(d->id, sizeof(d->id), "%s", id != NULL ? id : "");
        d->property[0] = '\0';
        snprintf(d->rule, sizeof(d->rule), "memory");
        snprintf(d->message, sizeof(d->message),
                 "out of memory while mapping an object to STIX 2.1");
    }
    return KASA_ENOMEM;
}

/*
 * How each STIX 2.0 type becomes 2.1.  `types` names the 2.1 property that
 * took over what 2.0 kept in `labels` (NULL: labels stay labels).
 */
typedef enum how {
    HOW_AS_IS,     /* add spec_version */
    HOW_TYPES,     /* and move labels to `types` */
    HOW_INDICATOR, /* and name the pattern's language */
    HOW_MALWARE,   /* and say it is a family */
    HOW_MARKING    /* and name the predefined TLP markings */
} how;

typedef struct rule {
    const char *type;
    how how;
    const char *types;
} rule;

static const rule rules[] = {
    /* 4.1 Attack Pattern, 4.2 Campaign, 4.3 Course of Action, 4.5
     * Identity (identity_class became optional), 4.9 Intrusion Set, 4.19
     * Vulnerability: 2.1 added optional properties only. */
    {"attack-pattern", HOW_AS_IS, NULL},
    {"campaign", HOW_AS_IS, NULL},
    {"course-of-action", HOW_AS_IS, NULL},
    {"identity", HOW_AS_IS, NULL},
    {"intrusion-set", HOW_AS_IS, NULL},
    {"vulnerability", HOW_AS_IS, NULL},
    /* 5.1 Relationship, 5.2 Sighting: the same properties (2.1 added
     * Sighting's optional summary). */
    {"relationship", HOW_AS_IS, NULL},
    {"sighting", HOW_AS_IS, NULL},
    /* 4.14 Observed Data: 2.1 deprecated `objects` in favour of
     * object_refs but still allows it (exactly one of the two), so the
     * embedded 2.0 cyber-observables stay where they are. */
    {"observed-data", HOW_AS_IS, NULL},
    /* 4.7 Indicator: 2.0 `labels` (indicator-label-ov) became
     * indicator_types (indicator-type-ov, the same terms); pattern_type is
     * new and required. */
    {"indicator", HOW_INDICATOR, "indicator_types"},
    /* 4.11 Malware: labels (malware-label-ov) became malware_types; the new
     * required is_family is true, see upgrade_malware. */
    {"malware", HOW_MALWARE, "malware_types"},
    /* 4.16 Report: labels (report-label-ov) became report_types. */
    {"report", HOW_TYPES, "report_types"},
    /* 4.17 Threat Actor: labels (threat-actor-label-ov) became
     * threat_actor_types. */
    {"threat-actor", HOW_TYPES, "threat_actor_types"},
    /* 4.18 Tool: labels (tool-label-ov) became tool_types. */
    {"tool", HOW_TYPES, "tool_types"},
    /* 7.2.1 Marking Definition: definition_type and definition are kept
     * (2.1 still defines them for TLP and statement markings). */
    {"marking-definition", HOW_MARKING, NULL},
};

/* Types that 2.1 introduced: without spec_version they are malformed 2.1,
 * not 2.0 objects. */
static const char *const new_in_21[] = {
    "grouping", "incident",         "infrastructure",
    "location", "malware-analysis", "note",
    "opinion",  "language-content", "extension-definition",
};

/* 7.2.1.4: the TLP marking definitions as 2.1 prints them carry a name;
 * 2.0's had none. */
static const struct {
    const char *id, *name;
} tlp_names[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"},
};

/* labels must be a list of strings before they can move. */
static kasa_err check_labels(const json_t *obj, const char *types,
                             kasa_stix_diag *d)
{
    const json_t *labels = json_object_get(obj, "labels"), *v;
    size_t i;

    if (json_object_get(obj, types) != NULL)
        return refuse(d, obj, types, "conflict",
                      "a STIX 2.0 object already has %s: it cannot take its "
                      "labels",
                      types);
    if (labels == NULL)
        return KASA_OK;
    if (!json_is_array(labels))
        return refuse(d, obj, "labels", "type",
                      "labels must be a list of strings");
    json_array_foreach(labels, i, v)
    {
        if (!json_is_string(v)) {
            char p[32];

            snprintf(p, sizeof(p), "labels[%zu]", i);
            return refuse(d, obj, p, "type", "%s must be a string", p);
        }
    }
    return KASA_OK;
}

static int move_labels(json_t *obj, const char *types)
{
    json_t *labels = json_object_get(obj, "labels");

    if (labels == NULL)
        return 0;
    if (json_object_set(obj, types, labels) != 0)
        return -1;
    return json_object_del(obj, "labels");
}

/*
 * 4.7 Indicator, pattern_version: "for the STIX Pattern language, the
 * default value is determined by the specification version of the object".
 * Once the object says 2.1, a pattern without pattern_version would be read
 * as a 2.1 pattern.  Most 2.0 patterns are also valid 2.1 patterns with
 * the same meaning; those that are not (START/STOP with plain strings
 * instead of t'...' timestamps, a qualifier repeated on one observation)
 * keep pattern_version "2.0" so that they are still read as what they are.
 * A pattern valid in neither cannot be given a version: refused.
 */
static kasa_err pattern_version(const json_t *obj, const char **version,
                                kasa_stix_diag *d)
{
    const json_t *pat = json_object_get(obj, "pattern");
    kasa_pattern *p = NULL;
    kasa_diag pd;
    kasa_err err;

    if (!json_is_string(pat))
        return refuse(d, obj, "pattern", pat ? "type" : "required",
                      "a STIX 2.0 indicator needs a string pattern");
    err = kasa_pattern_parse(json_string_value(pat), json_string_length(pat),
                             KASA_STIX_2_1, &p, &pd);
    if (err == KASA_OK)
        err = kasa_pattern_validate(p, &pd);
    kasa_pattern_free(p);
    p = NULL;
    if (err == KASA_ENOMEM)
        return nomem(d, obj);
    if (err == KASA_OK) {
        *version = "2.1";
        return KASA_OK;
    }
    err = kasa_pattern_parse(json_string_value(pat), json_string_length(pat),
                             KASA_STIX_2_0, &p, &pd);
    if (err == KASA_OK)
        err = kasa_pattern_validate(p, &pd);
    kasa_pattern_free(p);
    if (err == KASA_ENOMEM)
        return nomem(d, obj);
    if (err != KASA_OK)
        return refuse(d, obj, "pattern", "pattern",
                      "the pattern is not a valid STIX 2.0 pattern: %s",
                      pd.message);
    *version = "2.0";
    return KASA_OK;
}

static bool is_tlp_marking(const json_t *obj, size_t *which)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *dt;
    size_t i;

    dt = json_string_value(json_object_get(obj, "definition_type"));
    if (id == NULL || dt == NULL || strcmp(dt, "tlp") != 0)
        return false;
    for (i = 0; i < sizeof(tlp_names) / sizeof(tlp_names[0]); i++) {
        if (strcmp(id, tlp_names[i].id) == 0) {
            *which = i;
            return true;
        }
    }
    return false;
}

kasa_err kasa_stix_upgrade(json_t *obj, kasa_stix_diag *d)
{
    const char *ver, *type, *pv = NULL;
    const rule *r = NULL;
    size_t i, tlp;

    ver = kasa_stix_spec_version(obj);
    if (!json_is_object(obj) || ver == NULL)
        return refuse(d, obj, "type", "required",
                      "not a STIX object: an object with a string type is "
                      "needed");
    type = json_string_value(json_object_get(obj, "type"));
    if (strcmp(type, "bundle") == 0)
        return refuse(d, obj, "type", "no-mapping",
                      "a bundle is not mapped as a whole: map each of its "
                      "objects, and drop the bundle's spec_version");
    if (strcmp(ver, "2.1") == 0)
        return KASA_OK;
    if (strcmp(ver, "2.0") != 0)
        return refuse(d, obj, "spec_version", "version",
                      "spec_version \"%.40s\" is neither 2.0 nor 2.1", ver);

    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (strcmp(rules[i].type, type) == 0)
            r = &rules[i];
    if (r == NULL) {
        for (i = 0; i < sizeof(new_in_21) / sizeof(new_in_21[0]); i++)
            if (strcmp(new_in_21[i], type) == 0)
                return refuse(d, obj, "spec_version", "required",
                              "%s objects are new in STIX 2.1 and must say "
                              "spec_version \"2.1\"; without it the object "
                              "reads as STIX 2.0, which has no %s",
                              type, type);
        return refuse(d, obj, "type", "no-mapping",
                      "STIX 2.0 %.100s objects have no 2.1 mapping: %s", type,
                      strncmp(type, "x-", 2) == 0
                          ? "a custom object's shape is its producer's, and "
                            "the specification does not say how it changed"
                          : "STIX 2.0 defines no such type");
    }

    /* check everything first: a refusal leaves the object untouched */
    if (r->types != NULL) {
        kasa_err err = check_labels(obj, r->types, d);

        if (err != KASA_OK)
            return err;
    }
    if (r->how == HOW_INDICATOR) {
        kasa_err err;

        if (json_object_get(obj, "pattern_type") != NULL)
            return refuse(d, obj, "pattern_type", "conflict",
                          "a STIX 2.0 indicator has no pattern_type");
        err = pattern_version(obj, &pv, d);
        if (err != KASA_OK)
            return err;
    }
    if (r->how == HOW_MALWARE && json_object_get(obj, "is_family") != NULL)
        return refuse(d, obj, "is_family", "conflict",
                      "a STIX 2.0 malware has no is_family");

    /* Common Properties: spec_version is required of every 2.1 SDO, SRO
     * and marking definition. */
    if (json_object_set_new(obj, "spec_version", json_string("2.1")) != 0)
        return nomem(d, obj);
    if (r->types != NULL && move_labels(obj, r->types) != 0)
        return nomem(d, obj);
    switch (r->how) {
    case HOW_INDICATOR:
        /* 2.0 indicators knew one pattern language, STIX's */
        if (json_object_set_new(obj, "pattern_type", json_string("stix")) ||
            json_object_set_new(obj, "pattern_version", json_string(pv)))
            return nomem(d, obj);
        break;
    case HOW_MALWARE:
        /*
         * 4.11: is_family says whether the object is a family (true) or
         * one instance (false).  A 2.0 malware could only name and
         * describe what it was about: 2.0 had no sample_refs, hashes or
         * other means to pin one instance, and used it for families
         * ("Poison Ivy").  name, required of a family in 2.1, was
         * required of every 2.0 malware.
         */
        if (json_object_set_new(obj, "is_family", json_true()))
            return nomem(d, obj);
        break;
    case HOW_MARKING:
        if (is_tlp_marking(obj, &tlp) && json_object_get(obj, "name") == NULL &&
            json_object_set_new(obj, "name", json_string(tlp_names[tlp].name)))
            return nomem(d, obj);
        break;
    case HOW_AS_IS:
    case HOW_TYPES: break;
    }
    return KASA_OK;
}
