/*
 * policy.c - the egress policy: may this reader receive this object?  One
 * pure function over the facts the store keeps beside each object (read
 * once, when it was stored, by src/stix/sharing.c) and what the server
 * resolved about the reader.  It runs for every object served, so it
 * allocates nothing and parses nothing: it scans the short space-separated
 * lists of ids and compares whole tokens.  Who holds which grant, and
 * logging the verdict, are the callers' business.
 */
#include <string.h>

#include "kasa/policy.h"
#include "kasa/stix.h"

/*
 * The reasons given for a verdict on a TLP level, by level, by whether the
 * level was the collection's default (the object has no TLP marking), and
 * by verdict.
 */
static const char *const level_reasons[KASA_TLP_RED + 1][2][2] = {
    [KASA_TLP_CLEAR] = {{NULL, "TLP:CLEAR"},
                        {NULL, "TLP:CLEAR by collection default"}},
    [KASA_TLP_GREEN] = {{"TLP:GREEN, not a community member",
                         "TLP:GREEN, community member"},
                        {"TLP:GREEN by collection default, not a community "
                         "member",
                         "TLP:GREEN by collection default, community member"}},
    [KASA_TLP_AMBER] = {{"TLP:AMBER, organisation not granted",
                         "TLP:AMBER, organisation granted"},
                        {"TLP:AMBER by collection default, organisation not "
                         "granted",
                         "TLP:AMBER by collection default, organisation "
                         "granted"}},
    [KASA_TLP_AMBER_STRICT] = {{"TLP:AMBER+STRICT, organisation not granted",
                                "TLP:AMBER+STRICT, organisation granted"},
                               {"TLP:AMBER+STRICT by collection default, "
                                "organisation not granted",
                                "TLP:AMBER+STRICT by collection default, "
                                "organisation granted"}},
    [KASA_TLP_RED] = {{"TLP:RED, not a recipient", "TLP:RED, recipient"},
                      {"TLP:RED by collection default, not a recipient",
                       "TLP:RED by collection default, recipient"}},
};

static kasa_verdict verdict(kasa_verdict v, const char *reason,
                            const char **why)
{
    if (why != NULL)
        *why = reason;
    return v;
}

/* The length of the token at `t` (up to the next space or the end). */
static size_t token_len(const char *t)
{
    return strcspn(t, " ");
}

/*
 * Whether the space-separated `list` holds `id` as a whole token.  Runs of
 * spaces and spaces at either end separate nothing: they make no empty
 * token, and an empty `id` is never held.  A token is a maximal run of
 * non-space bytes, so an `id` with a space in it is never held either.
 */
static bool list_has(const char *list, const char *id)
{
    size_t n, len;

    if (list == NULL || id == NULL || (n = strlen(id)) == 0)
        return false;
    for (;;) {
        while (*list == ' ')
            list++;
        if (*list == '\0')
            return false;
        len = token_len(list);
        if (len == n && memcmp(list, id, n) == 0)
            return true;
        list += len;
    }
}

/* Whether the token t[0..len) is one of the policy's neutral markings. */
static bool neutral(const kasa_policy *p, const char *t, size_t len)
{
    size_t i;

    if (p == NULL || p->neutral_markings == NULL)
        return false;
    for (i = 0; i < p->n_neutral_markings; i++) {
        const char *m = p->neutral_markings[i];

        if (m != NULL && strncmp(m, t, len) == 0 && m[len] == '\0')
            return true;
    }
    return false;
}

/* Whether every marking of the space-separated `markings` is neutral. */
static bool markings_understood(const kasa_policy *p, const char *markings)
{
    size_t len;

    if (markings == NULL)
        return true;
    for (;;) {
        while (*markings == ' ')
            markings++;
        if (*markings == '\0')
            return true;
        len = token_len(markings);
        if (!neutral(p, markings, len))
            return false;
        markings += len;
    }
}

/*
 * kasa's documented policy (docs/policy.md), exactly and in this order;
 * the first rule that decides wins:
 *   1. no read grant on the collection: deny;
 *   2. the reader's organisation created the object: allow;
 *   3. a non-TLP marking that is not neutral: deny;
 *   4. the level: the object's TLP, else the collection's default (AMBER
 *      when that is no level); an object's level outside 1..5: deny;
 *   5. CLEAR: allow; GREEN: members; AMBER, AMBER+STRICT: organisations
 *      granted the collection; RED: the object's named recipients.
 * Changing this order changes what leaves the node: change the document
 * and its tests with it.
 */
kasa_verdict kasa_policy_check(const kasa_policy *p, const kasa_reader *r,
                               const kasa_record *f, int collection_tlp,
                               const char **why)
{
    bool defaulted = false, allow;
    int level;

    if (r == NULL || f == NULL)
        return verdict(KASA_DENY, "no reader or no object", why);
    /* 1 */
    if (!r->can_read)
        return verdict(KASA_DENY, "no read grant", why);
    /* 2: an empty id names no one, so it cannot make a creator */
    if (r->organisation != NULL && r->organisation[0] != '\0' &&
        f->created_by != NULL && strcmp(f->created_by, r->organisation) == 0)
        return verdict(KASA_ALLOW, "creator", why);
    /* 3: what the policy does not understand does not leave */
    if (!markings_understood(p, f->markings))
        return verdict(KASA_DENY, "marking not understood", why);
    /* 4 */
    level = f->tlp;
    if (level == KASA_TLP_NONE) {
        defaulted = true;
        level = collection_tlp;
        if (level < KASA_TLP_CLEAR || level > KASA_TLP_RED)
            level = KASA_TLP_AMBER;
    } else if (level < KASA_TLP_CLEAR || level > KASA_TLP_RED) {
        return verdict(KASA_DENY, "unknown TLP", why);
    }
    /* 5 */
    switch (level) {
    case KASA_TLP_CLEAR: allow = true; break;
    case KASA_TLP_GREEN: allow = r->member; break;
    case KASA_TLP_AMBER:
    case KASA_TLP_AMBER_STRICT:
        /* the organisation's grant: an account's own grant is not enough */
        allow = r->org_granted;
        break;
    default: /* KASA_TLP_RED */
        allow = list_has(f->recipients, r->organisation);
        break;
    }
    return verdict(allow ? KASA_ALLOW : KASA_DENY,
                   level_reasons[level][defaulted][allow], why);
}
