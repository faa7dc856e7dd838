/*
 * test_policy.c - the egress policy (src/taxii/policy.c): the table of
 * docs/policy.md cell by cell (every TLP level, an unmarked object under
 * every collection default, every kind of reader, with and without
 * markings the policy does not know), the order of the rules, the reasons
 * given, and ids that try to pass for others: prefixes, substrings, empty
 * strings, NULLs, stray spaces, and levels that are no level.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kasa/policy.h"
#include "kasa/stix.h"

#define CREATOR  "identity--11111111-1111-4111-8111-111111111111"
#define RECIP_1  "identity--22222222-2222-4222-8222-222222222222"
#define RECIP_2  "identity--33333333-3333-4333-8333-333333333333"
#define OTHER    "identity--44444444-4444-4444-8444-444444444444"
#define NEUTRAL  "marking-definition--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define NEUTRAL2 "marking-definition--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define UNKNOWN  "marking-definition--cccccccc-cccc-4ccc-8ccc-cccccccccccc"

static const char *const neutral_ids[] = {NEUTRAL, NEUTRAL2};
static const kasa_policy policy = {neutral_ids, 2};

/* -- the matrix -------------------------------------------------------------
 */

/* The kinds of reader, in the order of the expectation strings below. */
static const struct {
    const char *what;
    kasa_reader r;
} readers[] = {
    /* everything but the grant: rule 1 wins over all of it */
    {"no read grant", {"nogrant", RECIP_1, true, false, true}},
    {"guest, personal grant", {"guest", OTHER, false, true, false}},
    {"member, personal grant", {"member", OTHER, true, true, false}},
    {"member, organisation granted", {"granted", OTHER, true, true, true}},
    {"RED recipient, member, organisation granted",
     {"recip1", RECIP_1, true, true, true}},
    {"RED recipient, guest, personal grant",
     {"recip2", RECIP_2, false, true, false}},
    {"creator, guest, personal grant",
     {"creator", CREATOR, false, true, false}},
};
#define N_READERS (sizeof(readers) / sizeof(readers[0]))

/* What each reader may receive: '+' allow, '-' deny, one per reader. */
#define SEES_CLEAR   "-++++++"
#define SEES_GREEN   "--+++-+"
#define SEES_AMBER   "---++-+"
#define SEES_RED     "----+++"
#define SEES_CREATOR "------+"

static const struct {
    int tlp;            /* the object's */
    int collection_tlp; /* the collection's default */
    const char *sees;   /* with no markings, or neutral ones only */
    const char *reason; /* the reason the granted member gets */
} rows[] = {
    /* an unmarked object: the collection's default decides */
    {KASA_TLP_NONE, KASA_TLP_CLEAR, SEES_CLEAR,
     "TLP:CLEAR by collection default"},
    {KASA_TLP_NONE, KASA_TLP_GREEN, SEES_GREEN,
     "TLP:GREEN by collection default, community member"},
    {KASA_TLP_NONE, KASA_TLP_AMBER, SEES_AMBER,
     "TLP:AMBER by collection default, organisation granted"},
    {KASA_TLP_NONE, KASA_TLP_AMBER_STRICT, SEES_AMBER,
     "TLP:AMBER+STRICT by collection default, organisation granted"},
    {KASA_TLP_NONE, KASA_TLP_RED, SEES_RED,
     "TLP:RED by collection default, not a recipient"},
    /* a default that is no level counts as AMBER */
    {KASA_TLP_NONE, KASA_TLP_NONE, SEES_AMBER,
     "TLP:AMBER by collection default, organisation granted"},
    {KASA_TLP_NONE, -1, SEES_AMBER,
     "TLP:AMBER by collection default, organisation granted"},
    {KASA_TLP_NONE, 6, SEES_AMBER,
     "TLP:AMBER by collection default, organisation granted"},
    {KASA_TLP_NONE, INT_MIN, SEES_AMBER,
     "TLP:AMBER by collection default, organisation granted"},
    {KASA_TLP_NONE, INT_MAX, SEES_AMBER,
     "TLP:AMBER by collection default, organisation granted"},
    /* a marked object: its own level, whatever the collection's */
    {KASA_TLP_CLEAR, KASA_TLP_RED, SEES_CLEAR, "TLP:CLEAR"},
    {KASA_TLP_CLEAR, KASA_TLP_AMBER, SEES_CLEAR, "TLP:CLEAR"},
    {KASA_TLP_GREEN, KASA_TLP_CLEAR, SEES_GREEN, "TLP:GREEN, community member"},
    {KASA_TLP_GREEN, KASA_TLP_RED, SEES_GREEN, "TLP:GREEN, community member"},
    {KASA_TLP_AMBER, KASA_TLP_CLEAR, SEES_AMBER,
     "TLP:AMBER, organisation granted"},
    {KASA_TLP_AMBER, KASA_TLP_NONE, SEES_AMBER,
     "TLP:AMBER, organisation granted"},
    {KASA_TLP_AMBER_STRICT, KASA_TLP_CLEAR, SEES_AMBER,
     "TLP:AMBER+STRICT, organisation granted"},
    {KASA_TLP_AMBER_STRICT, KASA_TLP_RED, SEES_AMBER,
     "TLP:AMBER+STRICT, organisation granted"},
    {KASA_TLP_RED, KASA_TLP_CLEAR, SEES_RED, "TLP:RED, not a recipient"},
    {KASA_TLP_RED, 42, SEES_RED, "TLP:RED, not a recipient"},
    /* an object level that is no level: only its creator */
    {6, KASA_TLP_CLEAR, SEES_CREATOR, "unknown TLP"},
    {-1, KASA_TLP_CLEAR, SEES_CREATOR, "unknown TLP"},
    {INT_MAX, KASA_TLP_CLEAR, SEES_CREATOR, "unknown TLP"},
    {INT_MIN, KASA_TLP_CLEAR, SEES_CREATOR, "unknown TLP"},
};

/* The markings an object may carry, and whether the policy knows them. */
static const struct {
    const char *markings;
    bool understood;
} markings[] = {
    {NULL, true},
    {"", true},
    {" ", true},
    {NEUTRAL, true},
    {NEUTRAL " " NEUTRAL2, true},
    {"  " NEUTRAL2 "   " NEUTRAL " ", true},
    {UNKNOWN, false},
    {NEUTRAL " " UNKNOWN, false},
    {UNKNOWN " " NEUTRAL, false},
    {NEUTRAL2 "  " NEUTRAL " " UNKNOWN " ", false},
};

static kasa_record record(int tlp, const char *marks)
{
    kasa_record f;

    memset(&f, 0, sizeof(f));
    f.id = "indicator--55555555-5555-4555-8555-555555555555";
    f.tlp = tlp;
    f.created_by = CREATOR;
    f.markings = marks;
    f.recipients = RECIP_1 " " RECIP_2;
    return f;
}

static void test_matrix(void **state)
{
    size_t i, j, k;
    unsigned cells = 0;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(strlen(rows[i].sees), N_READERS);
        for (k = 0; k < sizeof(markings) / sizeof(markings[0]); k++) {
            kasa_record f = record(rows[i].tlp, markings[k].markings);
            const char *sees =
                markings[k].understood ? rows[i].sees : SEES_CREATOR;

            for (j = 0; j < N_READERS; j++) {
                const char *why = NULL;
                kasa_verdict v = kasa_policy_check(
                    &policy, &readers[j].r, &f, rows[i].collection_tlp, &why);
                kasa_verdict want = sees[j] == '+' ? KASA_ALLOW : KASA_DENY;

                if (v != want)
                    fail_msg(
                        "tlp %d, collection %d, markings \"%s\", %s: "
                        "%s (%s), expected %s",
                        rows[i].tlp, rows[i].collection_tlp,
                        markings[k].markings ? markings[k].markings : "(null)",
                        readers[j].what, v ? "allowed" : "denied",
                        why ? why : "(no reason)", want ? "allowed" : "denied");
                assert_non_null(why);
                cells++;
            }
        }
    }
    assert_int_equal(cells, sizeof(rows) / sizeof(rows[0]) *
                                (sizeof(markings) / sizeof(markings[0])) *
                                N_READERS);
}

/* The reason the granted member gets, per row: it names the level and
 * whether it came from the collection. */
static void test_reasons(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        kasa_record f = record(rows[i].tlp, NULL);
        const char *why = NULL;

        (void)kasa_policy_check(&policy, &readers[3].r, &f,
                                rows[i].collection_tlp, &why);
        assert_non_null(why);
        assert_string_equal(why, rows[i].reason);
    }
}

/* -- the order of the rules, and the reasons ---------------------------------
 */

static const char *check(const kasa_policy *p, const kasa_reader *r,
                         const kasa_record *f, int coll, kasa_verdict want)
{
    const char *why = NULL;

    assert_int_equal(kasa_policy_check(p, r, f, coll, &why), want);
    assert_non_null(why);
    /* the same verdict without a reason asked for */
    assert_int_equal(kasa_policy_check(p, r, f, coll, NULL), want);
    return why;
}

static void test_rule_order(void **state)
{
    kasa_reader creator = {"c", CREATOR, true, true, true};
    kasa_reader granted = {"g", OTHER, true, true, true};
    kasa_record f = record(KASA_TLP_RED, UNKNOWN);

    (void)state;
    /* 1 before 2: the creator without a grant on this collection */
    creator.can_read = false;
    assert_string_equal(check(&policy, &creator, &f, 1, KASA_DENY),
                        "no read grant");
    creator.can_read = true;
    /* 2 before 3 and 4: its own object, whatever it carries */
    assert_string_equal(check(&policy, &creator, &f, 1, KASA_ALLOW), "creator");
    f.tlp = 9;
    assert_string_equal(check(&policy, &creator, &f, 1, KASA_ALLOW), "creator");
    /* 3 before 4: an unknown marking on an unknown level */
    assert_string_equal(check(&policy, &granted, &f, 1, KASA_DENY),
                        "marking not understood");
    /* 3 before 5: an unknown marking on TLP:CLEAR */
    f.tlp = KASA_TLP_CLEAR;
    assert_string_equal(check(&policy, &granted, &f, 1, KASA_DENY),
                        "marking not understood");
    f.markings = NEUTRAL;
    assert_string_equal(check(&policy, &granted, &f, 1, KASA_ALLOW),
                        "TLP:CLEAR");
    f.tlp = 6;
    assert_string_equal(check(&policy, &granted, &f, 1, KASA_DENY),
                        "unknown TLP");
}

static void test_reasons_of_each_level(void **state)
{
    kasa_reader guest = {"g", OTHER, false, true, false};
    kasa_reader member = {"m", OTHER, true, true, false};
    kasa_reader recip = {"r", RECIP_2, false, true, false};
    kasa_record f = record(KASA_TLP_GREEN, NULL);

    (void)state;
    assert_string_equal(check(NULL, &guest, &f, 1, KASA_DENY),
                        "TLP:GREEN, not a community member");
    assert_string_equal(check(NULL, &member, &f, 1, KASA_ALLOW),
                        "TLP:GREEN, community member");
    f.tlp = KASA_TLP_AMBER;
    assert_string_equal(check(NULL, &member, &f, 1, KASA_DENY),
                        "TLP:AMBER, organisation not granted");
    f.tlp = KASA_TLP_AMBER_STRICT;
    assert_string_equal(check(NULL, &member, &f, 1, KASA_DENY),
                        "TLP:AMBER+STRICT, organisation not granted");
    f.tlp = KASA_TLP_RED;
    assert_string_equal(check(NULL, &member, &f, 1, KASA_DENY),
                        "TLP:RED, not a recipient");
    assert_string_equal(check(NULL, &recip, &f, 1, KASA_ALLOW),
                        "TLP:RED, recipient");
    f.tlp = KASA_TLP_NONE;
    assert_string_equal(check(NULL, &recip, &f, KASA_TLP_RED, KASA_ALLOW),
                        "TLP:RED by collection default, recipient");
    assert_string_equal(check(NULL, &guest, &f, KASA_TLP_GREEN, KASA_DENY),
                        "TLP:GREEN by collection default, not a community "
                        "member");
    assert_string_equal(check(NULL, &guest, &f, 0, KASA_DENY),
                        "TLP:AMBER by collection default, organisation not "
                        "granted");
}

/* A reason never carries an id from the object or the reader. */
static void test_reasons_are_static(void **state)
{
    kasa_reader r = {"account-name", RECIP_1, true, true, true};
    kasa_record f = record(KASA_TLP_RED, UNKNOWN);
    const char *why;

    (void)state;
    why = check(&policy, &r, &f, 1, KASA_DENY);
    assert_null(strstr(why, "--"));
    assert_null(strstr(why, "account-name"));
}

/* -- ids that try to pass for others -----------------------------------------
 */

static void test_recipient_tokens(void **state)
{
    static const struct {
        const char *organisation;
        const char *recipients;
        kasa_verdict want;
    } cases[] = {
        {"identity--abc", "identity--abc", KASA_ALLOW},
        {"identity--abc", "identity--x identity--abc", KASA_ALLOW},
        {"identity--abc", "identity--abc identity--x", KASA_ALLOW},
        {"identity--abc", " identity--abc", KASA_ALLOW},
        {"identity--abc", "identity--abc ", KASA_ALLOW},
        {"identity--abc", "   identity--x    identity--abc   ", KASA_ALLOW},
        /* prefixes and substrings, either way */
        {"identity--abc", "identity--abcd", KASA_DENY},
        {"identity--abcd", "identity--abc", KASA_DENY},
        {"identity--abc", "identity--ab", KASA_DENY},
        {"identity--abc", "xidentity--abc", KASA_DENY},
        {"identity--abc", "identity--abcidentity--abc", KASA_DENY},
        {"identity--abc", "identity--abcd identity--ab", KASA_DENY},
        {"identity--abc", "identity--x identity--abcd", KASA_DENY},
        {"identity--abc", "identity--x identity--ab", KASA_DENY},
        {"identity--bc", "identity--abc", KASA_DENY},
        {"abc", "identity--abc", KASA_DENY},
        /* only a space separates */
        {"identity--abc", "identity--abc,identity--x", KASA_DENY},
        {"identity--abc", "identity--abc\tidentity--x", KASA_DENY},
        {"identity--abc", "identity--x\nidentity--abc", KASA_DENY},
        {"identity--abc", "identity--abc\n", KASA_DENY},
        /* ids compare as bytes */
        {"identity--abc", "IDENTITY--ABC", KASA_DENY},
        /* empty lists, empty ids, no ids */
        {"identity--abc", "", KASA_DENY},
        {"identity--abc", " ", KASA_DENY},
        {"identity--abc", NULL, KASA_DENY},
        {"", "", KASA_DENY},
        {"", " ", KASA_DENY},
        {"", "identity--a  identity--b", KASA_DENY},
        {"", " identity--a", KASA_DENY},
        {NULL, "identity--abc", KASA_DENY},
        {NULL, NULL, KASA_DENY},
        {" ", "identity--a  identity--b", KASA_DENY},
        /* an organisation whose id has a space is no one token */
        {"identity--a identity--b", "identity--a identity--b", KASA_DENY},
        {"identity--a ", "identity--a", KASA_DENY},
        {" identity--a", "identity--a", KASA_DENY},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kasa_reader r = {"r", cases[i].organisation, true, true, true};
        kasa_record f = record(KASA_TLP_RED, NULL);
        const char *why = NULL;

        f.created_by = NULL;
        f.recipients = cases[i].recipients;
        if (kasa_policy_check(&policy, &r, &f, 1, &why) != cases[i].want)
            fail_msg("organisation \"%s\", recipients \"%s\": expected %s",
                     cases[i].organisation ? cases[i].organisation : "(null)",
                     cases[i].recipients ? cases[i].recipients : "(null)",
                     cases[i].want ? "allowed" : "denied");
        assert_string_equal(why, cases[i].want ? "TLP:RED, recipient"
                                               : "TLP:RED, not a recipient");
    }
}

static void test_marking_tokens(void **state)
{
    static const char *const list[] = {"m--a", "m--ab", NULL, ""};
    static const kasa_policy p = {list, 4};
    static const struct {
        const char *markings;
        kasa_verdict want;
    } cases[] = {
        {"m--a", KASA_ALLOW},
        {"m--ab", KASA_ALLOW},
        {"m--a m--ab", KASA_ALLOW},
        {" m--a ", KASA_ALLOW},
        {"m--a   m--a", KASA_ALLOW},
        {"", KASA_ALLOW},
        {"   ", KASA_ALLOW},
        {NULL, KASA_ALLOW},
        /* prefixes and substrings of a neutral id are not it */
        {"m--abc", KASA_DENY},
        {"m--", KASA_DENY},
        {"m-", KASA_DENY},
        {"xm--a", KASA_DENY},
        {"m--am--ab", KASA_DENY},
        {"m--a m--abc", KASA_DENY},
        {"m--abc m--a", KASA_DENY},
        {"M--A", KASA_DENY},
        /* only a space separates */
        {"m--a\tm--ab", KASA_DENY},
        {"m--a,m--ab", KASA_DENY},
        {"m--a\n", KASA_DENY},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kasa_reader r = {"r", OTHER, true, true, true};
        kasa_record f = record(KASA_TLP_CLEAR, cases[i].markings);
        const char *why = NULL;

        if (kasa_policy_check(&p, &r, &f, 1, &why) != cases[i].want)
            fail_msg("markings \"%s\": expected %s",
                     cases[i].markings ? cases[i].markings : "(null)",
                     cases[i].want ? "allowed" : "denied");
        assert_string_equal(why, cases[i].want ? "TLP:CLEAR"
                                               : "marking not understood");
    }
}

/* No neutral markings configured, in every way that can be said. */
static void test_no_neutral_markings(void **state)
{
    static const char *const empty_entries[] = {NULL, "", " "};
    static const char *const spaced[] = {"m--a m--b"};
    const kasa_policy none = {NULL, 0};
    const kasa_policy null_list = {NULL, 3}; /* a count without a list */
    const kasa_policy zero = {neutral_ids, 0};
    const kasa_policy blanks = {empty_entries, 3};
    const kasa_policy joined = {spaced, 1};
    kasa_reader r = {"r", OTHER, true, true, true};
    kasa_record f = record(KASA_TLP_CLEAR, NEUTRAL);

    (void)state;
    check(NULL, &r, &f, 1, KASA_DENY);
    check(&none, &r, &f, 1, KASA_DENY);
    check(&null_list, &r, &f, 1, KASA_DENY);
    check(&zero, &r, &f, 1, KASA_DENY);
    check(&blanks, &r, &f, 1, KASA_DENY);
    /* a configured entry with a space in it is no one id: it neither
     * allows its two halves nor the pair */
    f.markings = "m--a m--b";
    check(&joined, &r, &f, 1, KASA_DENY);
    f.markings = "m--a";
    check(&joined, &r, &f, 1, KASA_DENY);
    /* and with no markings, none are needed */
    f.markings = NULL;
    assert_string_equal(check(NULL, &r, &f, 1, KASA_ALLOW), "TLP:CLEAR");
}

static void test_creator_tokens(void **state)
{
    static const struct {
        const char *organisation;
        const char *created_by;
        bool creator;
    } cases[] = {
        {"identity--abc", "identity--abc", true},
        {"identity--abc", "identity--abcd", false},
        {"identity--abcd", "identity--abc", false},
        {"identity--abc", "identity--abc ", false},
        {"identity--abc", " identity--abc", false},
        {"identity--abc", "IDENTITY--ABC", false},
        {"identity--abc", "", false},
        {"", "", false},
        {"", NULL, false},
        {NULL, "", false},
        {NULL, NULL, false},
        {NULL, "identity--abc", false},
        {"identity--abc", NULL, false},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kasa_reader r = {"r", cases[i].organisation, true, true, true};
        kasa_record f = record(KASA_TLP_RED, NULL);
        const char *why = NULL;
        kasa_verdict v;

        f.created_by = cases[i].created_by;
        f.recipients = NULL;
        v = kasa_policy_check(&policy, &r, &f, 1, &why);
        if (v != (cases[i].creator ? KASA_ALLOW : KASA_DENY))
            fail_msg("organisation \"%s\", created_by \"%s\": expected %s",
                     cases[i].organisation ? cases[i].organisation : "(null)",
                     cases[i].created_by ? cases[i].created_by : "(null)",
                     cases[i].creator ? "the creator" : "not the creator");
        assert_string_equal(why, cases[i].creator ? "creator"
                                                  : "TLP:RED, not a recipient");
    }
}

/* The flags are read as they are: the organisation's grant alone, without
 * can_read, reads nothing; GREEN asks membership, not grants. */
static void test_flags(void **state)
{
    kasa_reader r = {"r", OTHER, false, false, true};
    kasa_record f = record(KASA_TLP_CLEAR, NULL);

    (void)state;
    assert_string_equal(check(NULL, &r, &f, 1, KASA_DENY), "no read grant");
    r.can_read = true;
    check(NULL, &r, &f, 1, KASA_ALLOW);
    f.tlp = KASA_TLP_GREEN;
    check(NULL, &r, &f, 1, KASA_DENY); /* granted, not a member */
    f.tlp = KASA_TLP_AMBER;
    check(NULL, &r, &f, 1, KASA_ALLOW); /* granted, not a member */
    r.member = true;
    r.org_granted = false;
    check(NULL, &r, &f, 1, KASA_DENY); /* a member on a personal grant */
}

static void test_null_arguments(void **state)
{
    kasa_reader r = {"r", OTHER, true, true, true};
    kasa_record f = record(KASA_TLP_CLEAR, NULL);
    const char *why = NULL;

    (void)state;
    assert_int_equal(kasa_policy_check(&policy, NULL, &f, 1, &why), KASA_DENY);
    assert_non_null(why);
    assert_int_equal(kasa_policy_check(&policy, &r, NULL, 1, &why), KASA_DENY);
    assert_int_equal(kasa_policy_check(NULL, NULL, NULL, 1, NULL), KASA_DENY);
    /* the account's name is not needed */
    r.account = NULL;
    assert_int_equal(kasa_policy_check(NULL, &r, &f, 1, NULL), KASA_ALLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_reasons_of_each_level),
        cmocka_unit_test(test_reasons_are_static),
        cmocka_unit_test(test_recipient_tokens),
        cmocka_unit_test(test_marking_tokens),
        cmocka_unit_test(test_no_neutral_markings),
        cmocka_unit_test(test_creator_tokens),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_null_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
