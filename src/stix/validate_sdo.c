/*
 * validate_sdo.c - the STIX Domain Objects (section 4) and Relationship
 * Objects (section 5): each type's properties as a table, and the rules
 * that tie its properties together (an indicator's validity window and
 * pattern, a location's coordinates, observed data's counts and content).
 * Open vocabularies are checked as strings only: a value outside them is
 * allowed.  The common properties are validate.c's.
 */
#include <stdio.h>
#include <string.h>

#include "kasa/pattern.h"
#include "stix/stix_int.h"

static const char *const any_object[] = {"@object", NULL};
static const char *const sdo_or_sco[] = {"@sdo", "@sco", NULL};
static const char *const sdo_only[] = {"@sdo", NULL};
static const char *const any_sco[] = {"@sco", NULL};
static const char *const software[] = {"software", NULL};
static const char *const identity_or_location[] = {"identity", "location",
                                                   NULL};
static const char *const observed_data[] = {"observed-data", NULL};
static const char *const sample_types[] = {"file", "artifact", NULL};
static const char *const ma_sample_types[] = {"file", "network-traffic",
                                              "artifact", NULL};
static const char *const sco_or_relationship[] = {"@sco", "relationship", NULL};
static const char *const opinion_enum[] = {"strongly-disagree", "disagree",
                                           "neutral",           "agree",
                                           "strongly-agree",    NULL};

/* -- co-constraints ----------------------------------------------------------
 */

static kasa_err seen_order(kasa__stix_ctx *c, const json_t *o, const char *path)
{
    return kasa__stix_order(c, o, path, "first_seen", "last_seen", false);
}

static kasa_err check_indicator(kasa__stix_ctx *c, const json_t *o,
                                const char *path)
{
    const json_t *pat = json_object_get(o, "pattern");
    const char *ptype = json_string_value(json_object_get(o, "pattern_type"));
    const char *pver = json_string_value(json_object_get(o, "pattern_version"));
    kasa_stix_version ver = KASA_STIX_2_1;
    kasa_pattern *p = NULL;
    kasa_diag pd;
    kasa_err err;

    err = kasa__stix_order(c, o, path, "valid_from", "valid_until", true);
    if (err != KASA_OK)
        return err;
    if (strcmp(ptype, "stix") != 0)
        return KASA_OK; /* snort, yara, sigma...: not ours to parse */
    if (pver != NULL && strcmp(pver, "2.0") == 0)
        ver = KASA_STIX_2_0;
    memset(&pd, 0, sizeof(pd));
    err = kasa_pattern_parse(json_string_value(pat), json_string_length(pat),
                             ver, &p, &pd);
    if (err == KASA_OK) {
        memset(&pd, 0, sizeof(pd));
        err = kasa_pattern_validate(p, &pd);
    }
    kasa_pattern_free(p);
    if (err == KASA_OK)
        return KASA_OK;
    if (err == KASA_ENOMEM) {
        kasa__stix_fail(c->d, "pattern", "pattern",
                        "out of memory while checking the pattern");
        return KASA_ENOMEM;
    }
    if (pd.line > 0)
        return kasa__stix_fail(c->d, "pattern", "pattern",
                               "pattern is not a valid STIX %s pattern: "
                               "%u:%u: %.300s",
                               ver == KASA_STIX_2_0 ? "2.0" : "2.1", pd.line,
                               pd.column, pd.message);
    return kasa__stix_fail(c->d, "pattern", "pattern",
                           "pattern is not a valid STIX %s pattern: %.300s",
                           ver == KASA_STIX_2_0 ? "2.0" : "2.1", pd.message);
}

static kasa_err check_location(kasa__stix_ctx *c, const json_t *o,
                               const char *path)
{
    bool lat = json_object_get(o, "latitude") != NULL;
    bool lon = json_object_get(o, "longitude") != NULL;

    if (lat != lon)
        return kasa__stix_fail(
            c->d, lat ? "longitude" : "latitude", "dependency",
            "%s is present without %s: give both "
            "coordinates or neither",
            lat ? "latitude" : "longitude", lat ? "longitude" : "latitude");
    if (json_object_get(o, "precision") != NULL && !lat)
        return kasa__stix_fail(c->d, "precision", "dependency",
                               "precision is only meaningful with latitude "
                               "and longitude; give them or drop precision");
    if (!lat && json_object_get(o, "region") == NULL &&
        json_object_get(o, "country") == NULL)
        return kasa__stix_fail(c->d, "", "at-least-one",
                               "a location needs region, country, or "
                               "latitude and longitude");
    return KASA_OK;
}

static kasa_err check_malware(kasa__stix_ctx *c, const json_t *o,
                              const char *path)
{
    if (json_is_true(json_object_get(o, "is_family")) &&
        json_object_get(o, "name") == NULL)
        return kasa__stix_fail(c->d, "name", "required",
                               "name is required when is_family is true: a "
                               "malware family has a name");
    return seen_order(c, o, path);
}

static kasa_err check_malware_analysis(kasa__stix_ctx *c, const json_t *o,
                                       const char *path)
{
    static const char *const one[] = {"result", "analysis_sco_refs", NULL};

    return kasa__stix_one_of(c, o, path, one);
}

static kasa_err check_observed_data(kasa__stix_ctx *c, const json_t *o,
                                    const char *path)
{
    static const char *const one[] = {"object_refs", "objects", NULL};
    const json_t *objs = json_object_get(o, "objects");
    const char *key;
    json_t *val;
    char p[200], shown[96];
    kasa_err err;

    err =
        kasa__stix_order(c, o, path, "first_observed", "last_observed", false);
    if (err != KASA_OK)
        return err;
    err = kasa__stix_exclusive(c, o, path, "object_refs", "objects");
    if (err != KASA_OK)
        return err;
    err = kasa__stix_one_of(c, o, path, one);
    if (err != KASA_OK)
        return err;
    if (objs == NULL)
        return KASA_OK;
    /* the deprecated observable container: local keys, SCOs as values */
    if (json_object_size(objs) == 0)
        return kasa__stix_fail(c->d, "objects", "empty",
                               "objects is an empty dictionary; it must hold "
                               "at least one cyber-observable");
    json_object_foreach((json_t *)objs, key, val)
    {
        const json_t *t = json_object_get(val, "type");

        kasa__stix_path(p, sizeof(p), "objects", key);
        if (!json_is_object(val))
            return kasa__stix_fail(c->d, p, "type",
                                   "%s must be a cyber-observable object, not "
                                   "%s",
                                   p,
                                   kasa__stix_show(val, shown, sizeof(shown)));
        if (!json_is_string(t)) {
            char q[220];

            kasa__stix_path(q, sizeof(q), p, "type");
            return kasa__stix_fail(c->d, q, "required",
                                   "%s is required: every object in objects "
                                   "names its type as a string",
                                   q);
        }
    }
    return KASA_OK;
}

static kasa_err check_relationship(kasa__stix_ctx *c, const json_t *o,
                                   const char *path)
{
    const char *rt = json_string_value(json_object_get(o, "relationship_type"));
    size_t i;

    for (i = 0; rt[i] != '\0'; i++)
        if (!((rt[i] >= 'a' && rt[i] <= 'z') ||
              (rt[i] >= '0' && rt[i] <= '9') || rt[i] == '-'))
            return kasa__stix_fail(c->d, "relationship_type", "format",
                                   "relationship_type \"%.80s\" may only use "
                                   "a-z, 0-9 and '-' (e.g. \"indicates\", "
                                   "\"related-to\")",
                                   rt);
    if (i == 0)
        return kasa__stix_fail(c->d, "relationship_type", "empty",
                               "relationship_type is empty; name the "
                               "relationship, e.g. \"indicates\"");
    return kasa__stix_order(c, o, path, "start_time", "stop_time", true);
}

/* -- the types --------------------------------------------------------------
 */

static const kasa__stix_prop attack_pattern_props[] = {
    P_STR_R("name"),   P_STR("description"),
    P_STRS("aliases"), P_KCP("kill_chain_phases"),
    PROP_END,
};

static const kasa__stix_prop campaign_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    P_STRS("aliases"),
    P_TIME("first_seen"),
    P_TIME("last_seen"),
    P_STR("objective"),
    PROP_END,
};

static const kasa__stix_prop course_of_action_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    PROP_END,
};

static const kasa__stix_prop grouping_props[] = {
    P_STR("name"),      P_STR("description"),
    P_STR_R("context"), P_REFS_R("object_refs", any_object),
    PROP_END,
};

static const kasa__stix_prop identity_props[] = {
    P_STR_R("name"),   P_STR("description"),
    P_STRS("roles"),   P_STR("identity_class"),
    P_STRS("sectors"), P_STR("contact_information"),
    PROP_END,
};

static const kasa__stix_prop incident_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    P_KCP("kill_chain_phases"),
    PROP_END,
};

static const kasa__stix_prop indicator_props[] = {
    P_STR("name"),
    P_STR("description"),
    P_STRS("indicator_types"),
    P_STR_R("pattern"),
    P_STR_R("pattern_type"),
    P_STR("pattern_version"),
    P_TIME_R("valid_from"),
    P_TIME("valid_until"),
    P_KCP("kill_chain_phases"),
    PROP_END,
};

static const kasa__stix_prop infrastructure_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    P_STRS("infrastructure_types"),
    P_STRS("aliases"),
    P_KCP("kill_chain_phases"),
    P_TIME("first_seen"),
    P_TIME("last_seen"),
    PROP_END,
};

static const kasa__stix_prop intrusion_set_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    P_STRS("aliases"),
    P_TIME("first_seen"),
    P_TIME("last_seen"),
    P_STRS("goals"),
    P_STR("resource_level"),
    P_STR("primary_motivation"),
    P_STRS("secondary_motivations"),
    PROP_END,
};

static const kasa__stix_prop location_props[] = {
    P_STR("name"),
    P_STR("description"),
    P_FLOAT_IN("latitude", -90.0, 90.0),
    P_FLOAT_IN("longitude", -180.0, 180.0),
    P_FLOAT_IN("precision", 0.0, 1e308),
    P_STR("region"),
    P_STR("country"),
    P_STR("administrative_area"),
    P_STR("city"),
    P_STR("street_address"),
    P_STR("postal_code"),
    PROP_END,
};

static const kasa__stix_prop malware_props[] = {
    P_STR("name"),
    P_STR("description"),
    P_STRS("malware_types"),
    P_BOOL_R("is_family"),
    P_STRS("aliases"),
    P_KCP("kill_chain_phases"),
    P_TIME("first_seen"),
    P_TIME("last_seen"),
    P_REFS("operating_system_refs", software),
    P_STRS("architecture_execution_envs"),
    P_STRS("implementation_languages"),
    P_STRS("capabilities"),
    P_REFS("sample_refs", sample_types),
    PROP_END,
};

static const kasa__stix_prop malware_analysis_props[] = {
    P_STR_R("product"),
    P_STR("version"),
    P_REF("host_vm_ref", software),
    P_REF("operating_system_ref", software),
    P_REFS("installed_software_refs", software),
    P_STR("configuration_version"),
    P_STRS("modules"),
    P_STR("analysis_engine_version"),
    P_STR("analysis_definition_version"),
    P_TIME("submitted"),
    P_TIME("analysis_started"),
    P_TIME("analysis_ended"),
    P_STR("result_name"),
    P_STR("result"),
    P_REFS("analysis_sco_refs", any_sco),
    P_REF("sample_ref", ma_sample_types),
    PROP_END,
};

static const kasa__stix_prop note_props[] = {
    P_STR("abstract"), P_STR_R("content"),
    P_STRS("authors"), P_REFS_R("object_refs", any_object),
    PROP_END,
};

static const kasa__stix_prop observed_data_props[] = {
    P_TIME_R("first_observed"),
    P_TIME_R("last_observed"),
    P_INT_IN_R("number_observed", 1, 999999999),
    P_OBJ("objects", NULL),
    P_REFS("object_refs", sco_or_relationship),
    PROP_END,
};

static const kasa__stix_prop opinion_props[] = {
    P_STR("explanation"),
    P_STRS("authors"),
    P_ENUM_R("opinion", opinion_enum),
    P_REFS_R("object_refs", any_object),
    PROP_END,
};

static const kasa__stix_prop report_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    P_STRS("report_types"),
    P_TIME_R("published"),
    P_REFS_R("object_refs", any_object),
    PROP_END,
};

static const kasa__stix_prop threat_actor_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    P_STRS("threat_actor_types"),
    P_STRS("aliases"),
    P_TIME("first_seen"),
    P_TIME("last_seen"),
    P_STRS("roles"),
    P_STRS("goals"),
    P_STR("sophistication"),
    P_STR("resource_level"),
    P_STR("primary_motivation"),
    P_STRS("secondary_motivations"),
    P_STRS("personal_motivations"),
    PROP_END,
};

static const kasa__stix_prop tool_props[] = {
    P_STR_R("name"),   P_STR("description"),       P_STRS("tool_types"),
    P_STRS("aliases"), P_KCP("kill_chain_phases"), P_STR("tool_version"),
    PROP_END,
};

static const kasa__stix_prop vulnerability_props[] = {
    P_STR_R("name"),
    P_STR("description"),
    PROP_END,
};

static const kasa__stix_prop relationship_props[] = {
    P_STR_R("relationship_type"),
    P_STR("description"),
    P_REF_R("source_ref", sdo_or_sco),
    P_REF_R("target_ref", sdo_or_sco),
    P_TIME("start_time"),
    P_TIME("stop_time"),
    PROP_END,
};

static const kasa__stix_prop sighting_props[] = {
    P_STR("description"),
    P_TIME("first_seen"),
    P_TIME("last_seen"),
    P_INT_IN("count", 0, 999999999),
    P_REF_R("sighting_of_ref", sdo_only),
    P_REFS("observed_data_refs", observed_data),
    P_REFS("where_sighted_refs", identity_or_location),
    P_BOOL("summary"),
    PROP_END,
};

#define SHAPE(name, check)                                                     \
    static const kasa__stix_shape name##_shape = {name##_props, check}

SHAPE(attack_pattern, NULL);
SHAPE(campaign, seen_order);
SHAPE(course_of_action, NULL);
SHAPE(grouping, NULL);
SHAPE(identity, NULL);
SHAPE(incident, NULL);
SHAPE(indicator, check_indicator);
SHAPE(infrastructure, seen_order);
SHAPE(intrusion_set, seen_order);
SHAPE(location, check_location);
SHAPE(malware, check_malware);
SHAPE(malware_analysis, check_malware_analysis);
SHAPE(note, NULL);
SHAPE(observed_data, check_observed_data);
SHAPE(opinion, NULL);
SHAPE(report, NULL);
SHAPE(threat_actor, seen_order);
SHAPE(tool, NULL);
SHAPE(vulnerability, NULL);
SHAPE(relationship, check_relationship);
SHAPE(sighting, seen_order);

#define SDO(type, name)                                                        \
    {                                                                          \
        type, KASA__STIX_SDO, &name##_shape, NULL, NULL, NULL                  \
    }

const kasa__stix_type kasa__stix_sdo_types[] = {
    SDO("attack-pattern", attack_pattern),
    SDO("campaign", campaign),
    SDO("course-of-action", course_of_action),
    SDO("grouping", grouping),
    SDO("identity", identity),
    SDO("incident", incident),
    SDO("indicator", indicator),
    SDO("infrastructure", infrastructure),
    SDO("intrusion-set", intrusion_set),
    SDO("location", location),
    SDO("malware", malware),
    SDO("malware-analysis", malware_analysis),
    SDO("note", note),
    SDO("observed-data", observed_data),
    SDO("opinion", opinion),
    SDO("report", report),
    SDO("threat-actor", threat_actor),
    SDO("tool", tool),
    SDO("vulnerability", vulnerability),
    {"relationship", KASA__STIX_SRO, &relationship_shape, NULL, NULL, NULL},
    {"sighting", KASA__STIX_SRO, &sighting_shape, NULL, NULL, NULL},
};
const size_t kasa__stix_sdo_ntypes =
    sizeof(kasa__stix_sdo_types) / sizeof(kasa__stix_sdo_types[0]);
