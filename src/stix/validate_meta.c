/*
 * validate_meta.c - the STIX Meta Objects (section 7): marking
 * definitions, with the TLP 1.0 objects the specification fixes and the
 * TLP 2.0 ones its extension publishes; language content; extension
 * definitions.  What a marking means for sharing is the access policy's
 * business, not this file's: here a marking is only checked for being
 * well-formed and, for TLP, for being the one published object.
 */
#include <stdio.h>
#include <string.h>

#include "stix/stix_int.h"

/* TLP 1.0 (section 7.2.1.4): the only marking definitions of this kind. */
typedef struct tlp1 {
    const char *level;
    const char *id;
    const char *name;
} tlp1;

static const tlp1 tlp1_markings[] = {
    {"white", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
     "TLP:WHITE"},
    {"green", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
     "TLP:GREEN"},
    {"amber", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
     "TLP:AMBER"},
    {"red", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
     "TLP:RED"},
};
#define TLP1_CREATED "2017-01-20T00:00:00.000Z"

/* TLP 2.0, published by OASIS as an extension (cti-stix-common-objects,
 * extension-definition-specifications/tlp-2.0). */
#define TLP2_EXTENSION                                                         \
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

static const tlp1 tlp2_markings[] = {
    {"clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
     "TLP:CLEAR"},
    {"green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
     "TLP:GREEN"},
    {"amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
     "TLP:AMBER"},
    {"amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     "TLP:AMBER+STRICT"},
    {"red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
     "TLP:RED"},
};

#define NTLP1 (sizeof(tlp1_markings) / sizeof(tlp1_markings[0]))
#define NTLP2 (sizeof(tlp2_markings) / sizeof(tlp2_markings[0]))

static const tlp1 *tlp_by_id(const tlp1 *set, size_t n, const char *id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(set[i].id, id) == 0)
            return &set[i];
    return NULL;
}

static const tlp1 *tlp_by_level(const tlp1 *set, size_t n, const char *level)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(set[i].level, level) == 0)
            return &set[i];
    return NULL;
}

static bool str_is(const json_t *o, const char *key, const char *want)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL && strcmp(s, want) == 0;
}

/* A TLP 1.0 marking must be one of the four objects of section 7.2.1.4,
 * property for property. */
static kasa_err check_tlp1(kasa__stix_ctx *c, const json_t *o)
{
    static const char *const keys[] = {"type",      "spec_version",    "id",
                                       "created",   "definition_type", "name",
                                       "definition"};
    const json_t *def = json_object_get(o, "definition");
    const char *level = json_string_value(json_object_get(def, "tlp"));
    const char *id = json_string_value(json_object_get(o, "id"));
    const tlp1 *m;
    const char *key;
    json_t *val;
    size_t i;

    if (level == NULL)
        return kasa__stix_fail(c->d, "definition.tlp", "required",
                               "definition.tlp is required for definition_type "
                               "\"tlp\": white, green, amber or red");
    m = tlp_by_level(tlp1_markings, NTLP1, level);
    if (m == NULL)
        return kasa__stix_fail(c->d, "definition.tlp", "tlp",
                               "definition.tlp is \"%.40s\"; TLP 1.0 levels "
                               "are white, green, amber and red (TLP 2.0 "
                               "markings use the TLP 2.0 extension)",
                               level);
    if (strcmp(id, m->id) != 0)
        return kasa__stix_fail(c->d, "id", "tlp",
                               "a TLP:%s marking must be the predefined "
                               "object %s, not %s: other TLP marking "
                               "definitions must not be created",
                               m->level, m->id, id);
    if (!str_is(o, "created", TLP1_CREATED))
        return kasa__stix_fail(c->d, "created", "tlp",
                               "the predefined TLP:%s marking was created %s; "
                               "it must not be changed",
                               m->level, TLP1_CREATED);
    if (!str_is(o, "name", m->name))
        return kasa__stix_fail(c->d, "name", "tlp",
                               "the predefined TLP:%s marking is named \"%s\"",
                               m->level, m->name);
    if (json_object_size(def) != 1)
        return kasa__stix_fail(c->d, "definition", "tlp",
                               "the predefined TLP:%s marking's definition "
                               "holds only tlp",
                               m->level);
    json_object_foreach((json_t *)o, key, val)
    {
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strcmp(keys[i], key) == 0)
                break;
        if (i == sizeof(keys) / sizeof(keys[0]))
            return kasa__stix_fail(c->d, key, "tlp",
                                   "the predefined TLP:%s marking has no "
                                   "property %.80s: it must match section "
                                   "7.2.1.4 exactly",
                                   m->level, key);
    }
    return KASA_OK;
}

static kasa_err check_tlp2(kasa__stix_ctx *c, const json_t *o,
                           const json_t *ext)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const json_t *lv = json_object_get(ext, "tlp_2_0");
    const char *level = json_string_value(lv);
    const tlp1 *m;
    char p[160];

    snprintf(p, sizeof(p), "extensions.%s.tlp_2_0", TLP2_EXTENSION);
    if (lv == NULL)
        return kasa__stix_fail(c->d, p, "required",
                               "%s is required: clear, green, amber, "
                               "amber+strict or red",
                               p);
    m = level != NULL ? tlp_by_level(tlp2_markings, NTLP2, level) : NULL;
    if (m == NULL)
        return kasa__stix_fail(c->d, p, "tlp",
                               "%s must be clear, green, amber, amber+strict "
                               "or red",
                               p);
    if (strcmp(id, m->id) != 0)
        return kasa__stix_fail(c->d, "id", "tlp",
                               "a TLP 2.0 %s marking must be the published "
                               "object %s, not %s",
                               m->name, m->id, id);
    return KASA_OK;
}

static kasa_err check_marking(kasa__stix_ctx *c, const json_t *o,
                              const char *path)
{
    const json_t *exts = json_object_get(o, "extensions");
    const json_t *tlp2 = json_object_get(exts, TLP2_EXTENSION);
    const json_t *dtype = json_object_get(o, "definition_type");
    const json_t *def = json_object_get(o, "definition");
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *dt = json_string_value(dtype);
    const tlp1 *m;

    if (tlp2 != NULL)
        return check_tlp2(c, o, tlp2);
    if ((m = tlp_by_id(tlp2_markings, NTLP2, id)) != NULL)
        return kasa__stix_fail(c->d, "extensions", "tlp",
                               "%s is the published TLP 2.0 %s marking; it "
                               "must carry the TLP 2.0 extension %s",
                               id, m->name, TLP2_EXTENSION);
    if (exts == NULL && dtype == NULL)
        return kasa__stix_fail(c->d, "definition_type", "required",
                               "definition_type is required when a marking "
                               "has no extensions (\"statement\" or \"tlp\")");
    if (dtype != NULL && def == NULL)
        return kasa__stix_fail(c->d, "definition", "required",
                               "definition is required with definition_type "
                               "\"%.40s\"",
                               dt);
    if (def != NULL && dtype == NULL)
        return kasa__stix_fail(c->d, "definition_type", "required",
                               "definition_type is required with definition: "
                               "it says what kind of marking it is");
    if ((m = tlp_by_id(tlp1_markings, NTLP1, id)) != NULL &&
        (dt == NULL || strcmp(dt, "tlp") != 0))
        return kasa__stix_fail(c->d, "definition_type", "tlp",
                               "%s is the predefined TLP:%s marking; its "
                               "definition_type is \"tlp\"",
                               id, m->level);
    if (dt == NULL)
        return KASA_OK;
    if (strcmp(dt, "tlp") == 0)
        return check_tlp1(c, o);
    if (strcmp(dt, "statement") == 0) {
        const json_t *st = json_object_get(def, "statement");

        if (st == NULL)
            return kasa__stix_fail(c->d, "definition.statement", "required",
                                   "definition.statement is required for "
                                   "definition_type \"statement\"");
        if (!json_is_string(st))
            return kasa__stix_fail(c->d, "definition.statement", "type",
                                   "definition.statement must be a string");
    }
    return KASA_OK;
}

static kasa_err check_language_content(kasa__stix_ctx *c, const json_t *o,
                                       const char *path)
{
    const json_t *contents = json_object_get(o, "contents");
    const char *key;
    json_t *val;
    char p[200];

    json_object_foreach((json_t *)contents, key, val)
    {
        kasa__stix_path(p, sizeof(p), "contents", key);
        if (!kasa__stix_lang_ok(key, strlen(key)))
            return kasa__stix_fail(c->d, p, "lang",
                                   "contents key \"%.64s\" is not an RFC 5646 "
                                   "language tag (e.g. \"de\", \"fr-CA\")",
                                   key);
        if (!json_is_object(val))
            return kasa__stix_fail(c->d, p, "type",
                                   "%s must be an object mirroring the "
                                   "translated properties",
                                   p);
        if (json_object_size(val) == 0)
            return kasa__stix_fail(c->d, p, "empty",
                                   "%s is empty: give at least one translated "
                                   "property",
                                   p);
    }
    return KASA_OK;
}

static kasa_err check_extension_definition(kasa__stix_ctx *c, const json_t *o,
                                           const char *path)
{
    const json_t *types = json_object_get(o, "extension_types");
    size_t i;

    if (json_object_get(o, "extension_properties") == NULL)
        return KASA_OK;
    for (i = 0; i < json_array_size(types); i++)
        if (strcmp(json_string_value(json_array_get(types, i)),
                   "toplevel-property-extension") == 0)
            return KASA_OK;
    return kasa__stix_fail(c->d, "extension_properties", "dependency",
                           "extension_properties may only be used when "
                           "extension_types includes "
                           "toplevel-property-extension");
}

static const char *const extension_types[] = {"new-sdo",
                                              "new-sco",
                                              "new-sro",
                                              "property-extension",
                                              "toplevel-property-extension",
                                              NULL};
static const char *const any_object[] = {"@object", NULL};

static const kasa__stix_prop marking_props[] = {
    P_STR("name"),
    P_STR("definition_type"),
    P_OBJ("definition", NULL),
    PROP_END,
};

static const kasa__stix_prop language_content_props[] = {
    P_REF_R("object_ref", any_object),
    P_TIME("object_modified"),
    PROP("contents", KASA__P_DICT, KASA__P_REQ, NULL, NULL, 0, 0),
    PROP_END,
};

static const kasa__stix_prop extension_definition_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    P_STR_R("schema"),
    P_STR_R("version"),
    PROP("extension_types", KASA__P_ENUMS, KASA__P_REQ, extension_types, NULL,
         0, 0),
    P_STRS("extension_properties"),
    PROP_END,
};

static const kasa__stix_shape marking_shape = {marking_props, check_marking};
static const kasa__stix_shape language_content_shape = {language_content_props,
                                                        check_language_content};
static const kasa__stix_shape extension_definition_shape = {
    extension_definition_props, check_extension_definition};

const kasa__stix_type kasa__stix_meta_types[] = {
    {"marking-definition", KASA__STIX_MARKING, &marking_shape, NULL, NULL,
     NULL},
    {"language-content", KASA__STIX_LANGUAGE, &language_content_shape, NULL,
     NULL, NULL},
    {"extension-definition", KASA__STIX_EXTENSION, &extension_definition_shape,
     NULL, NULL, NULL},
};
const size_t kasa__stix_meta_ntypes =
    sizeof(kasa__stix_meta_types) / sizeof(kasa__stix_meta_types[0]);
