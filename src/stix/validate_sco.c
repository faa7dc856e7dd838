/*
 * validate_sco.c - the STIX Cyber-observable Objects (section 6): each
 * type's properties, its predefined extensions, its ID contributing
 * properties (sco.c derives deterministic ids from them), and the rules
 * that tie its properties together (an artifact's payload or url, a file's
 * hashes or name, an email's parts, an address's notation).  Whether an SCO
 * may carry created, labels and the like is validate.c's business.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

static const char *const ref_addr[] = {"ipv4-addr", "ipv6-addr", "mac-addr",
                                       "domain-name", NULL};
static const char *const ref_artifact[] = {"artifact", NULL};
static const char *const ref_artifact_file[] = {"artifact", "file", NULL};
static const char *const ref_directory[] = {"directory", NULL};
static const char *const ref_file[] = {"file", NULL};
static const char *const ref_file_dir[] = {"file", "directory", NULL};
static const char *const ref_email_addr[] = {"email-addr", NULL};
static const char *const ref_user[] = {"user-account", NULL};
static const char *const ref_mac[] = {"mac-addr", NULL};
static const char *const ref_as[] = {"autonomous-system", NULL};
static const char *const ref_domain_targets[] = {"ipv4-addr", "ipv6-addr",
                                                 "domain-name", NULL};
static const char *const ref_traffic[] = {"network-traffic", NULL};
static const char *const ref_process[] = {"process", NULL};
static const char *const ref_any_sco[] = {"@sco", NULL};

/* section 10: the enumerations SCOs use */
static const char *const encryption_algorithms[] = {
    "AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated", NULL};
static const char *const address_families[] = {
    "AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6",
    "AF_IRDA",   "AF_BTH",  NULL};
static const char *const socket_types[] = {"SOCK_STREAM",    "SOCK_DGRAM",
                                           "SOCK_RAW",       "SOCK_RDM",
                                           "SOCK_SEQPACKET", NULL};
static const char *const integrity_levels[] = {"low", "medium", "high",
                                               "system", NULL};
static const char *const service_start_types[] = {
    "SERVICE_AUTO_START", "SERVICE_BOOT_START",   "SERVICE_DEMAND_START",
    "SERVICE_DISABLED",   "SERVICE_SYSTEM_ALERT", NULL};
static const char *const service_types[] = {
    "SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER",
    "SERVICE_WIN32_OWN_PROCESS", "SERVICE_WIN32_SHARE_PROCESS", NULL};
static const char *const service_statuses[] = {
    "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING",
    "SERVICE_PAUSED",           "SERVICE_RUNNING",
    "SERVICE_START_PENDING",    "SERVICE_STOP_PENDING",
    "SERVICE_STOPPED",          NULL};
static const char *const registry_datatypes[] = {
    "REG_NONE",
    "REG_SZ",
    "REG_EXPAND_SZ",
    "REG_BINARY",
    "REG_DWORD",
    "REG_DWORD_BIG_ENDIAN",
    "REG_DWORD_LITTLE_ENDIAN",
    "REG_LINK",
    "REG_MULTI_SZ",
    "REG_RESOURCE_LIST",
    "REG_FULL_RESOURCE_DESCRIPTION",
    "REG_RESOURCE_REQUIREMENTS_LIST",
    "REG_QWORD",
    "REG_INVALID_TYPE",
    NULL};

/* -- co-constraints ----------------------------------------------------------
 */

/* "name_enc" only with "name" (section 3.1). */
static kasa_err enc_needs(kasa__stix_ctx *c, const json_t *o, const char *enc,
                          const char *base)
{
    if (json_object_get(o, enc) != NULL && json_object_get(o, base) == NULL)
        return kasa__stix_fail(c->d, enc, "dependency",
                               "%s names the encoding of %s, which is not "
                               "present; drop %s or give %s",
                               enc, base, enc, base);
    return KASA_OK;
}

/* At least one property besides the common ones (and, when `ext` is set,
 * besides extensions). */
static kasa_err some_property(kasa__stix_ctx *c, const json_t *o,
                              const kasa__stix_prop *props, bool ext,
                              const char *what)
{
    const kasa__stix_prop *p;

    for (p = props; p->name != NULL; p++)
        if (json_object_get(o, p->name) != NULL)
            return KASA_OK;
    if (ext && json_object_get(o, "extensions") != NULL)
        return KASA_OK;
    return kasa__stix_fail(c->d, "", "at-least-one",
                           "%s must have at least one of its own properties",
                           what);
}

static kasa_err check_artifact(kasa__stix_ctx *c, const json_t *o,
                               const char *path)
{
    static const char *const one[] = {"payload_bin", "url", NULL};
    kasa_err err;

    err = kasa__stix_exclusive(c, o, path, "payload_bin", "url");
    if (err == KASA_OK)
        err = kasa__stix_one_of(c, o, path, one);
    if (err != KASA_OK)
        return err;
    if (json_object_get(o, "url") != NULL &&
        json_object_get(o, "hashes") == NULL)
        return kasa__stix_fail(c->d, "hashes", "dependency",
                               "hashes is required when url is present, so "
                               "that what the url serves can be checked");
    if (json_object_get(o, "decryption_key") != NULL &&
        json_object_get(o, "encryption_algorithm") == NULL)
        return kasa__stix_fail(c->d, "decryption_key", "dependency",
                               "decryption_key must not be present without "
                               "encryption_algorithm");
    return KASA_OK;
}

static kasa_err check_directory(kasa__stix_ctx *c, const json_t *o,
                                const char *path)
{
    return enc_needs(c, o, "path_enc", "path");
}

static kasa_err check_mime_part(kasa__stix_ctx *c, const json_t *o,
                                const char *path)
{
    static const char *const one[] = {"body", "body_raw_ref", NULL};
    kasa_err err;

    err = kasa__stix_exclusive(c, o, path, "body", "body_raw_ref");
    if (err != KASA_OK)
        return err;
    return kasa__stix_one_of(c, o, path, one);
}

static kasa_err check_email_message(kasa__stix_ctx *c, const json_t *o,
                                    const char *path)
{
    bool multi = json_is_true(json_object_get(o, "is_multipart"));

    if (multi && json_object_get(o, "body") != NULL)
        return kasa__stix_fail(c->d, "body", "exclusive",
                               "body must not be present when is_multipart "
                               "is true; put the parts in body_multipart");
    if (!multi && json_object_get(o, "body_multipart") != NULL)
        return kasa__stix_fail(c->d, "body_multipart", "exclusive",
                               "body_multipart must not be present when "
                               "is_multipart is false");
    return KASA_OK;
}

static kasa_err check_file(kasa__stix_ctx *c, const json_t *o, const char *path)
{
    static const char *const one[] = {"hashes", "name", NULL};
    kasa_err err;

    err = kasa__stix_one_of(c, o, path, one);
    if (err != KASA_OK)
        return err;
    return enc_needs(c, o, "name_enc", "name");
}

static kasa_err check_address(kasa__stix_ctx *c, const json_t *o, int af)
{
    const char *v = json_string_value(json_object_get(o, "value"));
    const char *slash = strchr(v, '/');
    unsigned char buf[16];
    char addr[64];
    size_t n = slash != NULL ? (size_t)(slash - v) : strlen(v);
    long maxbits = af == AF_INET ? 32 : 128;
    bool ok = n < sizeof(addr);

    if (ok) {
        memcpy(addr, v, n);
        addr[n] = '\0';
        ok = inet_pton(af, addr, buf) == 1;
    }
    if (ok && slash != NULL) {
        const char *s = slash + 1;
        long bits = 0;

        ok = *s != '\0' && strlen(s) <= 3;
        for (; ok && *s != '\0'; s++) {
            if (*s < '0' || *s > '9')
                ok = false;
            else
                bits = bits * 10 + (*s - '0');
        }
        ok = ok && bits <= maxbits;
    }
    if (!ok)
        return kasa__stix_fail(c->d, "value", "format",
                               "value \"%.80s\" is not an %s address or CIDR "
                               "block (e.g. \"%s\")",
                               v, af == AF_INET ? "IPv4" : "IPv6",
                               af == AF_INET ? "198.51.100.3 or 10.2.4.0/24"
                                             : "2001:db8::1 or 2001:db8::/96");
    return KASA_OK;
}

static kasa_err check_ipv4(kasa__stix_ctx *c, const json_t *o, const char *path)
{
    return check_address(c, o, AF_INET);
}

static kasa_err check_ipv6(kasa__stix_ctx *c, const json_t *o, const char *path)
{
    return check_address(c, o, AF_INET6);
}

static kasa_err check_mac(kasa__stix_ctx *c, const json_t *o, const char *path)
{
    const char *v = json_string_value(json_object_get(o, "value"));
    size_t i;
    bool ok = strlen(v) == 17;

    for (i = 0; ok && i < 17; i++) {
        if (i % 3 == 2)
            ok = v[i] == ':';
        else
            ok = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');
    }
    if (!ok)
        return kasa__stix_fail(c->d, "value", "format",
                               "value \"%.80s\" is not a MAC-48 address in "
                               "colon-delimited lower case with leading "
                               "zeros (e.g. \"00:00:ab:cd:ef:01\")",
                               v);
    return KASA_OK;
}

static kasa_err check_network_traffic(kasa__stix_ctx *c, const json_t *o,
                                      const char *path)
{
    static const char *const one[] = {"src_ref", "dst_ref", NULL};
    kasa_err err;

    err = kasa__stix_one_of(c, o, path, one);
    if (err != KASA_OK)
        return err;
    if (json_is_true(json_object_get(o, "is_active")) &&
        json_object_get(o, "end") != NULL)
        return kasa__stix_fail(c->d, "end", "exclusive",
                               "end must not be present when is_active is "
                               "true: active traffic has not ended");
    return kasa__stix_order(c, o, path, "start", "end", false);
}

static kasa_err check_socket_ext(kasa__stix_ctx *c, const json_t *o,
                                 const char *path)
{
    const json_t *opts = json_object_get(o, "options");
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)opts, key, val)
    {
        if (strncmp(key, "SO_", 3) != 0) {
            char q[240];

            snprintf(q, sizeof(q), "%s.options.%s", path, key);
            return kasa__stix_fail(c->d, q, "dict-key",
                                   "socket option \"%.64s\" must be named as "
                                   "in setsockopt, starting with \"SO_\"",
                                   key);
        }
        if (!json_is_integer(val)) {
            char q[240];

            snprintf(q, sizeof(q), "%s.options.%s", path, key);
            return kasa__stix_fail(c->d, q, "type",
                                   "socket option %s must be an integer", q);
        }
    }
    return KASA_OK;
}

/* -- the types --------------------------------------------------------------
 */

static const kasa__stix_prop artifact_props[] = {
    P_STR("mime_type"),
    P_BIN("payload_bin"),
    P_STR("url"),
    P_HASHES("hashes"),
    P_ENUM("encryption_algorithm", encryption_algorithms),
    P_STR("decryption_key"),
    PROP_END,
};

static const kasa__stix_prop autonomous_system_props[] = {
    P_INT_R("number"),
    P_STR("name"),
    P_STR("rir"),
    PROP_END,
};

static const kasa__stix_prop directory_props[] = {
    P_STR_R("path"), P_STR("path_enc"), P_TIME("ctime"),
    P_TIME("mtime"), P_TIME("atime"),   P_REFS("contains_refs", ref_file_dir),
    PROP_END,
};

static const kasa__stix_prop domain_name_props[] = {
    P_STR_R("value"),
    P_REFS("resolves_to_refs", ref_domain_targets),
    PROP_END,
};

static const kasa__stix_prop email_addr_props[] = {
    P_STR_R("value"),
    P_STR("display_name"),
    P_REF("belongs_to_ref", ref_user),
    PROP_END,
};

static const kasa__stix_prop mime_part_props[] = {
    P_STR("body"),
    P_REF("body_raw_ref", ref_artifact_file),
    P_STR("content_type"),
    P_STR("content_disposition"),
    PROP_END,
};
static const kasa__stix_shape mime_part_shape = {mime_part_props,
                                                 check_mime_part};

static const kasa__stix_prop email_message_props[] = {
    P_BOOL_R("is_multipart"),
    P_TIME("date"),
    P_STR("content_type"),
    P_REF("from_ref", ref_email_addr),
    P_REF("sender_ref", ref_email_addr),
    P_REFS("to_refs", ref_email_addr),
    P_REFS("cc_refs", ref_email_addr),
    P_REFS("bcc_refs", ref_email_addr),
    P_STR("message_id"),
    P_STR("subject"),
    P_STRS("received_lines"),
    P_DICT("additional_header_fields"),
    P_STR("body"),
    P_OBJS("body_multipart", &mime_part_shape),
    P_REF("raw_email_ref", ref_artifact),
    PROP_END,
};

static const kasa__stix_prop file_props[] = {
    P_HASHES("hashes"),
    P_NONNEG("size"),
    P_STR("name"),
    P_STR("name_enc"),
    P_HEX("magic_number_hex"),
    P_STR("mime_type"),
    P_TIME("ctime"),
    P_TIME("mtime"),
    P_TIME("atime"),
    P_REF("parent_directory_ref", ref_directory),
    P_REFS("contains_refs", ref_any_sco),
    P_REF("content_ref", ref_artifact),
    PROP_END,
};

static const kasa__stix_prop archive_ext_props[] = {
    P_REFS_R("contains_refs", ref_file_dir),
    P_STR("comment"),
    PROP_END,
};
static const kasa__stix_prop ads_props[] = {
    P_STR_R("name"),
    P_HASHES("hashes"),
    P_NONNEG("size"),
    PROP_END,
};
static const kasa__stix_shape ads_shape = {ads_props, NULL};
static const kasa__stix_prop ntfs_ext_props[] = {
    P_STR("sid"),
    P_OBJS("alternate_data_streams", &ads_shape),
    PROP_END,
};
static const kasa__stix_prop pdf_ext_props[] = {
    P_STR("version"), P_BOOL("is_optimized"), P_DICT("document_info_dict"),
    P_STR("pdfid0"),  P_STR("pdfid1"),        PROP_END,
};
static const kasa__stix_prop raster_ext_props[] = {
    P_INT("image_height"),
    P_INT("image_width"),
    P_INT("bits_per_pixel"),
    P_DICT("exif_tags"),
    PROP_END,
};
static const kasa__stix_prop pe_optional_header_props[] = {
    P_HEX("magic_hex"),
    P_INT("major_linker_version"),
    P_INT("minor_linker_version"),
    P_NONNEG("size_of_code"),
    P_NONNEG("size_of_initialized_data"),
    P_NONNEG("size_of_uninitialized_data"),
    P_INT("address_of_entry_point"),
    P_INT("base_of_code"),
    P_INT("base_of_data"),
    P_INT("image_base"),
    P_INT("section_alignment"),
    P_INT("file_alignment"),
    P_INT("major_os_version"),
    P_INT("minor_os_version"),
    P_INT("major_image_version"),
    P_INT("minor_image_version"),
    P_INT("major_subsystem_version"),
    P_INT("minor_subsystem_version"),
    P_HEX("win32_version_value_hex"),
    P_NONNEG("size_of_image"),
    P_NONNEG("size_of_headers"),
    P_HEX("checksum_hex"),
    P_HEX("subsystem_hex"),
    P_HEX("dll_characteristics_hex"),
    P_NONNEG("size_of_stack_reserve"),
    P_NONNEG("size_of_stack_commit"),
    P_NONNEG("size_of_heap_reserve"),
    P_NONNEG("size_of_heap_commit"),
    P_HEX("loader_flags_hex"),
    P_INT("number_of_rva_and_sizes"),
    P_HASHES("hashes"),
    PROP_END,
};
static const kasa__stix_shape pe_optional_header_shape = {
    pe_optional_header_props, NULL};
static const kasa__stix_prop pe_section_props[] = {
    P_STR_R("name"),    P_NONNEG("size"), P_FLOAT_IN("entropy", 0.0, 8.0),
    P_HASHES("hashes"), PROP_END,
};
static const kasa__stix_shape pe_section_shape = {pe_section_props, NULL};
static const kasa__stix_prop pebinary_ext_props[] = {
    P_STR_R("pe_type"),
    P_STR("imphash"),
    P_HEX("machine_hex"),
    P_NONNEG("number_of_sections"),
    P_TIME("time_date_stamp"),
    P_HEX("pointer_to_symbol_table_hex"),
    P_NONNEG("number_of_symbols"),
    P_NONNEG("size_of_optional_header"),
    P_HEX("characteristics_hex"),
    P_HASHES("file_header_hashes"),
    P_OBJ("optional_header", &pe_optional_header_shape),
    P_OBJS("sections", &pe_section_shape),
    PROP_END,
};

static const kasa__stix_prop ipv4_addr_props[] = {
    P_STR_R("value"),
    P_REFS("resolves_to_refs", ref_mac),
    P_REFS("belongs_to_refs", ref_as),
    PROP_END,
};
#define ipv6_addr_props ipv4_addr_props

static const kasa__stix_prop mac_addr_props[] = {
    P_STR_R("value"),
    PROP_END,
};

static const kasa__stix_prop mutex_props[] = {
    P_STR_R("name"),
    PROP_END,
};

static const kasa__stix_prop network_traffic_props[] = {
    P_TIME("start"),
    P_TIME("end"),
    P_BOOL("is_active"),
    P_REF("src_ref", ref_addr),
    P_REF("dst_ref", ref_addr),
    P_INT_IN("src_port", 0, 65535),
    P_INT_IN("dst_port", 0, 65535),
    P_STRS_R("protocols"),
    P_NONNEG("src_byte_count"),
    P_NONNEG("dst_byte_count"),
    P_NONNEG("src_packets"),
    P_NONNEG("dst_packets"),
    P_DICT("ipfix"),
    P_REF("src_payload_ref", ref_artifact),
    P_REF("dst_payload_ref", ref_artifact),
    P_REFS("encapsulates_refs", ref_traffic),
    P_REF("encapsulated_by_ref", ref_traffic),
    PROP_END,
};

static const kasa__stix_prop http_request_ext_props[] = {
    P_STR_R("request_method"),
    P_STR_R("request_value"),
    P_STR("request_version"),
    P_DICT("request_header"),
    P_NONNEG("message_body_length"),
    P_REF("message_body_data_ref", ref_artifact),
    PROP_END,
};
static const kasa__stix_prop icmp_ext_props[] = {
    P_HEX_R("icmp_type_hex"),
    P_HEX_R("icmp_code_hex"),
    PROP_END,
};
static const kasa__stix_prop socket_ext_props[] = {
    P_ENUM_R("address_family", address_families),
    P_BOOL("is_blocking"),
    P_BOOL("is_listening"),
    P_DICT("options"),
    P_ENUM("socket_type", socket_types),
    P_NONNEG("socket_descriptor"),
    P_INT("socket_handle"),
    PROP_END,
};
static const kasa__stix_prop tcp_ext_props[] = {
    P_HEX("src_flags_hex"),
    P_HEX("dst_flags_hex"),
    PROP_END,
};

static const kasa__stix_prop process_props[] = {
    P_BOOL("is_hidden"),
    P_INT("pid"),
    P_TIME("created_time"),
    P_STR("cwd"),
    P_STR("command_line"),
    P_DICT("environment_variables"),
    P_REFS("opened_connection_refs", ref_traffic),
    P_REF("creator_user_ref", ref_user),
    P_REF("image_ref", ref_file),
    P_REF("parent_ref", ref_process),
    P_REFS("child_refs", ref_process),
    PROP_END,
};

static kasa_err check_process(kasa__stix_ctx *c, const json_t *o,
                              const char *path)
{
    return some_property(c, o, process_props, true, "a process");
}

static const kasa__stix_prop windows_process_ext_props[] = {
    P_BOOL("aslr_enabled"),
    P_BOOL("dep_enabled"),
    P_STR("priority"),
    P_STR("owner_sid"),
    P_STR("window_title"),
    P_DICT("startup_info"),
    P_ENUM("integrity_level", integrity_levels),
    PROP_END,
};
static const kasa__stix_prop windows_service_ext_props[] = {
    P_STR("service_name"),
    P_STRS("descriptions"),
    P_STR("display_name"),
    P_STR("group_name"),
    P_ENUM("start_type", service_start_types),
    P_REFS("service_dll_refs", ref_file),
    P_ENUM("service_type", service_types),
    P_ENUM("service_status", service_statuses),
    PROP_END,
};

static const kasa__stix_prop software_props[] = {
    P_STR_R("name"), P_STR("cpe"),     P_STR("swid"), P_STRS("languages"),
    P_STR("vendor"), P_STR("version"), PROP_END,
};

static const kasa__stix_prop url_props[] = {
    P_STR_R("value"),
    PROP_END,
};

static const kasa__stix_prop user_account_props[] = {
    P_STR("user_id"),
    P_STR("credential"),
    P_STR("account_login"),
    P_STR("account_type"),
    P_STR("display_name"),
    P_BOOL("is_service_account"),
    P_BOOL("is_privileged"),
    P_BOOL("can_escalate_privs"),
    P_BOOL("is_disabled"),
    P_TIME("account_created"),
    P_TIME("account_expires"),
    P_TIME("credential_last_changed"),
    P_TIME("account_first_login"),
    P_TIME("account_last_login"),
    PROP_END,
};
static const kasa__stix_prop unix_account_ext_props[] = {
    P_INT("gid"), P_STRS("groups"), P_STR("home_dir"), P_STR("shell"), PROP_END,
};

static const kasa__stix_prop registry_value_props[] = {
    P_STR("name"),
    P_STR("data"),
    P_ENUM("data_type", registry_datatypes),
    PROP_END,
};
static const kasa__stix_shape registry_value_shape = {registry_value_props,
                                                      NULL};
static const kasa__stix_prop windows_registry_key_props[] = {
    P_STR("key"),
    P_OBJS("values", &registry_value_shape),
    P_TIME("modified_time"),
    P_REF("creator_user_ref", ref_user),
    P_NONNEG("number_of_subkeys"),
    PROP_END,
};

static const kasa__stix_prop x509_v3_props[] = {
    P_STR("basic_constraints"),
    P_STR("name_constraints"),
    P_STR("policy_constraints"),
    P_STR("key_usage"),
    P_STR("extended_key_usage"),
    P_STR("subject_key_identifier"),
    P_STR("authority_key_identifier"),
    P_STR("subject_alternative_name"),
    P_STR("issuer_alternative_name"),
    P_STR("subject_directory_attributes"),
    P_STR("crl_distribution_points"),
    P_STR("inhibit_any_policy"),
    P_TIME("private_key_usage_period_not_before"),
    P_TIME("private_key_usage_period_not_after"),
    P_STR("certificate_policies"),
    P_STR("policy_mappings"),
    PROP_END,
};
static const kasa__stix_shape x509_v3_shape = {x509_v3_props, NULL};
static const kasa__stix_prop x509_certificate_props[] = {
    P_BOOL("is_self_signed"),
    P_HASHES("hashes"),
    P_STR("version"),
    P_STR("serial_number"),
    P_STR("signature_algorithm"),
    P_STR("issuer"),
    P_TIME("validity_not_before"),
    P_TIME("validity_not_after"),
    P_STR("subject"),
    P_STR("subject_public_key_algorithm"),
    P_STR("subject_public_key_modulus"),
    P_INT("subject_public_key_exponent"),
    P_OBJ("x509_v3_extensions", &x509_v3_shape),
    PROP_END,
};

static kasa_err check_x509(kasa__stix_ctx *c, const json_t *o, const char *path)
{
    kasa_err err;

    err = some_property(c, o, x509_certificate_props, false,
                        "an x509-certificate");
    if (err != KASA_OK)
        return err;
    return kasa__stix_order(c, o, path, "validity_not_before",
                            "validity_not_after", false);
}

#define SHAPE(name, check)                                                     \
    static const kasa__stix_shape name##_shape = {name##_props, check}

SHAPE(artifact, check_artifact);
SHAPE(autonomous_system, NULL);
SHAPE(directory, check_directory);
SHAPE(domain_name, NULL);
SHAPE(email_addr, NULL);
SHAPE(email_message, check_email_message);
SHAPE(file, check_file);
SHAPE(ipv4_addr, check_ipv4);
SHAPE(ipv6_addr, check_ipv6);
SHAPE(mac_addr, check_mac);
SHAPE(mutex, NULL);
SHAPE(network_traffic, check_network_traffic);
SHAPE(process, check_process);
SHAPE(software, NULL);
SHAPE(url, NULL);
SHAPE(user_account, NULL);
SHAPE(windows_registry_key, NULL);
SHAPE(x509_certificate, check_x509);

SHAPE(archive_ext, NULL);
SHAPE(ntfs_ext, NULL);
SHAPE(pdf_ext, NULL);
SHAPE(raster_ext, NULL);
SHAPE(pebinary_ext, NULL);
SHAPE(http_request_ext, NULL);
SHAPE(icmp_ext, NULL);
SHAPE(socket_ext, check_socket_ext);
SHAPE(tcp_ext, NULL);
SHAPE(windows_process_ext, NULL);
SHAPE(windows_service_ext, NULL);
SHAPE(unix_account_ext, NULL);

static const char *const file_exts[] = {
    "archive-ext",          "ntfs-ext", "pdf-ext", "raster-image-ext",
    "windows-pebinary-ext", NULL};
static const kasa__stix_shape *const file_ext_shapes[] = {
    &archive_ext_shape, &ntfs_ext_shape, &pdf_ext_shape, &raster_ext_shape,
    &pebinary_ext_shape};
static const char *const traffic_exts[] = {"http-request-ext", "icmp-ext",
                                           "socket-ext", "tcp-ext", NULL};
static const kasa__stix_shape *const traffic_ext_shapes[] = {
    &http_request_ext_shape, &icmp_ext_shape, &socket_ext_shape,
    &tcp_ext_shape};
static const char *const process_exts[] = {"windows-process-ext",
                                           "windows-service-ext", NULL};
static const kasa__stix_shape *const process_ext_shapes[] = {
    &windows_process_ext_shape, &windows_service_ext_shape};
static const char *const user_exts[] = {"unix-account-ext", NULL};
static const kasa__stix_shape *const user_ext_shapes[] = {
    &unix_account_ext_shape};

/* ID contributing properties, as each SCO's table in section 6 lists them */
static const char *const id_artifact[] = {"hashes", "payload_bin", NULL};
static const char *const id_as[] = {"number", NULL};
static const char *const id_directory[] = {"path", NULL};
static const char *const id_value[] = {"value", NULL};
static const char *const id_email_message[] = {"from_ref", "subject", "body",
                                               NULL};
static const char *const id_file[] = {"hashes", "name", "extensions",
                                      "parent_directory_ref", NULL};
static const char *const id_mutex[] = {"name", NULL};
static const char *const id_traffic[] = {"start",     "end",        "src_ref",
                                         "dst_ref",   "src_port",   "dst_port",
                                         "protocols", "extensions", NULL};
static const char *const id_none[] = {NULL};
static const char *const id_software[] = {"name",   "cpe",     "swid",
                                          "vendor", "version", NULL};
static const char *const id_user[] = {"account_type", "user_id",
                                      "account_login", NULL};
static const char *const id_registry[] = {"key", "values", NULL};
static const char *const id_x509[] = {"hashes", "serial_number", NULL};

#define SCO(type, name, exts, shapes, ids)                                     \
    {                                                                          \
        type, KASA__STIX_SCO, &name##_shape, exts, shapes, ids                 \
    }

const kasa__stix_type kasa__stix_sco_types[] = {
    SCO("artifact", artifact, NULL, NULL, id_artifact),
    SCO("autonomous-system", autonomous_system, NULL, NULL, id_as),
    SCO("directory", directory, NULL, NULL, id_directory),
    SCO("domain-name", domain_name, NULL, NULL, id_value),
    SCO("email-addr", email_addr, NULL, NULL, id_value),
    SCO("email-message", email_message, NULL, NULL, id_email_message),
    SCO("file", file, file_exts, file_ext_shapes, id_file),
    SCO("ipv4-addr", ipv4_addr, NULL, NULL, id_value),
    SCO("ipv6-addr", ipv6_addr, NULL, NULL, id_value),
    SCO("mac-addr", mac_addr, NULL, NULL, id_value),
    SCO("mutex", mutex, NULL, NULL, id_mutex),
    SCO("network-traffic", network_traffic, traffic_exts, traffic_ext_shapes,
        id_traffic),
    SCO("process", process, process_exts, process_ext_shapes, id_none),
    SCO("software", software, NULL, NULL, id_software),
    SCO("url", url, NULL, NULL, id_value),
    SCO("user-account", user_account, user_exts, user_ext_shapes, id_user),
    SCO("windows-registry-key", windows_registry_key, NULL, NULL, id_registry),
    SCO("x509-certificate", x509_certificate, NULL, NULL, id_x509),
};
const size_t kasa__stix_sco_ntypes =
    sizeof(kasa__stix_sco_types) / sizeof(kasa__stix_sco_types[0]);
