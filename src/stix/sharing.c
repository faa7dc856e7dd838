/*
 * sharing.c - what an object says about who may see it: its TLP level,
 * the markings that are not TLP, its creator and the recipients it names.
 * Read once, when the object is stored, so that the access policy judges
 * each object it serves from a few columns instead of parsing JSON.  What
 * the facts allow is the policy's business (src/taxii/policy.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kasa/stix.h"

static const struct {
    const char *id;
    kasa_tlp tlp;
} tlp_ids[] = {
    /* TLP 1.0, fixed by STIX 2.1 section 7.2.1.4 */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", KASA_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", KASA_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", KASA_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", KASA_TLP_RED},
    /* TLP 2.0, published by OASIS as an extension */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", KASA_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", KASA_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", KASA_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     KASA_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", KASA_TLP_RED},
};

static const char *const tlp_names[] = {"none",  "clear",        "green",
                                        "amber", "amber+strict", "red"};

int kasa_stix_tlp_of(const char *id)
{
    size_t i;

    if (id == NULL || strncmp(id, "marking-definition--", 20) != 0)
        return -1;
    for (i = 0; i < sizeof(tlp_ids) / sizeof(tlp_ids[0]); i++)
        if (strcmp(tlp_ids[i].id, id) == 0)
            return (int)tlp_ids[i].tlp;
    return -1;
}

const char *kasa_stix_tlp_name(kasa_tlp tlp)
{
    return (unsigned)tlp < sizeof(tlp_names) / sizeof(tlp_names[0])
               ? tlp_names[tlp]
               : "unknown";
}

int kasa_stix_tlp_parse(const char *name)
{
    int i;

    if (name == NULL)
        return -1;
    if (strncasecmp(name, "tlp:", 4) == 0)
        name += 4;
    if (strcasecmp(name, "white") == 0)
        return KASA_TLP_CLEAR;
    for (i = 1; i <= KASA_TLP_RED; i++)
        if (strcasecmp(name, tlp_names[i]) == 0)
            return i;
    return -1;
}

/* A space-separated list being built in one allocation. */
typedef struct idlist {
    char *text;
    size_t len, cap;
} idlist;

static void list_put(idlist *l, const char *id)
{
    size_t n = strlen(id);

    if (l->text == NULL) { /* the sizing pass */
        l->cap += n + 1;
        return;
    }
    if (l->len > 0)
        l->text[l->len++] = ' ';
    memcpy(l->text + l->len, id, n + 1);
    l->len += n;
}

/* One pass over the object's markings and recipients: sizes the lists
 * when their text is not allocated yet, fills them when it is. */
static void walk(const json_t *obj, kasa_stix_sharing *out, idlist *marks,
                 idlist *recips)
{
    const json_t *v, *ext;
    size_t i, k;

    for (k = 0; k < 2; k++) {
        v = json_object_get(obj, k == 0 ? "object_marking_refs"
                                        : "granular_markings");
        for (i = 0; i < json_array_size(v); i++) {
            const json_t *r = json_array_get(v, i);
            const char *id = json_string_value(
                k == 0 ? r : json_object_get(r, "marking_ref"));
            int tlp = kasa_stix_tlp_of(id);

            if (id == NULL)
                continue; /* a language marking, or rejected by validation */
            if (tlp < 0)
                list_put(marks, id);
            else if (tlp > (int)out->tlp)
                out->tlp = (kasa_tlp)tlp;
        }
    }
    ext = json_object_get(json_object_get(obj, "extensions"),
                          KASA_STIX_RECIPIENTS_EXT);
    v = json_object_get(ext, "recipients");
    for (i = 0; i < json_array_size(v); i++) {
        const char *id = json_string_value(json_array_get(v, i));

        /* an entry that is not one id names no one: "" would make an empty
         * token, and "identity--a identity--b" two recipients the list did
         * not name one by one */
        if (id != NULL && id[0] != '\0' && strchr(id, ' ') == NULL)
            list_put(recips, id);
    }
}

kasa_err kasa_stix_sharing_get(const json_t *obj, kasa_stix_sharing *out)
{
    idlist marks = {0}, recips = {0};

    memset(out, 0, sizeof(*out));
    out->created_by = json_string_value(json_object_get(obj, "created_by_ref"));
    walk(obj, out, &marks, &recips);
    if (marks.cap > 0 && (marks.text = malloc(marks.cap)) == NULL)
        return KASA_ENOMEM;
    if (recips.cap > 0 && (recips.text = malloc(recips.cap)) == NULL) {
        free(marks.text);
        return KASA_ENOMEM;
    }
    if (marks.text != NULL || recips.text != NULL) {
        /* the filling pass; a list with no text is sized again, unused */
        idlist unused_m = {0}, unused_r = {0};

        walk(obj, out, marks.text ? &marks : &unused_m,
             recips.text ? &recips : &unused_r);
    }
    out->markings = marks.text;
    out->recipients = recips.text;
    return KASA_OK;
}

void kasa_stix_sharing_fini(kasa_stix_sharing *sh)
{
    free(sh->markings);
    free(sh->recipients);
    sh->markings = NULL;
    sh->recipients = NULL;
}
