/*
 * policy.h - the egress policy: whether one account may receive one STIX
 * object.  The TAXII server asks it for every object on every read path
 * (objects, object, versions, manifest) and serves only what it allows.
 * It judges from the facts the store keeps beside each object (its TLP
 * level, non-TLP markings, creator and named recipients: see
 * kasa_stix_sharing in kasa/stix.h) and from what the server knows about
 * the reader; it neither reads JSON nor asks the store.  Which accounts
 * hold which grants is kasa/access.h's business; docs/policy.md states the
 * policy for users.
 */
#ifndef KASA_POLICY_H
#define KASA_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "kasa/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Who is asking, as the server resolved it for the request.  Strings are
 * borrowed for the call.
 */
typedef struct kasa_reader {
    const char *account;      /* the account's name, for the caller's log
                                 line: the policy does not read it */
    const char *organisation; /* the account's organisation's STIX identity
                                 id, NULL when it has none */
    bool member;              /* the account is in the partner community */
    bool can_read;            /* the account or its organisation may read the
                                 collection */
    bool org_granted;         /* the organisation itself holds a read grant on
                                 the collection */
} kasa_reader;

/*
 * What the node's operators configured.  Borrowed for the call; a NULL
 * policy is one with no neutral markings.
 */
typedef struct kasa_policy {
    /* ids of non-TLP marking definitions that do not restrict sharing (a
     * copyright or terms-of-use statement the node's operators reviewed);
     * every other non-TLP marking makes an object unshareable.  NULL and
     * empty entries are ignored. */
    const char *const *neutral_markings;
    size_t n_neutral_markings;
} kasa_policy;

typedef enum kasa_verdict { KASA_DENY = 0, KASA_ALLOW = 1 } kasa_verdict;

/*
 * Whether reader `r` may receive the object whose facts are `f` (a record
 * from the store: its tlp, created_by, markings and recipients are read,
 * nothing else) in a collection whose objects without a TLP marking are
 * shared as `collection_tlp` (a kasa_tlp; anything but 1..5 counts as
 * KASA_TLP_AMBER).  The rules, first match wins:
 *
 *   1. the reader cannot read the collection: deny;
 *   2. the reader's organisation created the object: allow;
 *   3. the object carries a non-TLP marking that is not neutral: deny;
 *   4. the object's TLP level is none of 1..5 (and not NONE): deny;
 *   5. CLEAR: allow; GREEN: community members; AMBER and AMBER+STRICT:
 *      organisations granted the collection; RED: the organisations the
 *      object names as recipients.
 *
 * Lists are matched token by token, exactly (one space separates ids).
 * `why`, when not NULL, gets a static reason for the audit log, e.g.
 * "creator" or "TLP:RED, not a recipient"; it never holds an id.  `p` may
 * be NULL.  No allocation; thread-safe.
 */
kasa_verdict kasa_policy_check(const kasa_policy *p, const kasa_reader *r,
                               const kasa_record *f, int collection_tlp,
                               const char **why);

#ifdef __cplusplus
}
#endif

#endif /* KASA_POLICY_H */
