/*
 * cmd_demo.c - `kasa demo`: the pattern engine at work on a built-in
 * example, for a person at a terminal.  The example replays, with made-up
 * hashes and domains, the May 2015 Emdivi phishing campaign against the
 * Japan Pension Service: indicators a partner would have shared (the
 * dropper's hash, the C2 domain, "phishing mail, then C2 traffic within
 * ten minutes") are matched against a STIX 2.1 bundle of the mail, DNS and
 * web traffic a sensor saw.  It is a demonstration and a smoke test, not a
 * test suite: it exits 1 if an indicator does not behave as written here.
 */
#include <string.h>

#include "cli.h"

#define KASA_DEMO_HASH                                                         \
    "e10c9b56a3be49f0be4208e99dc83668873e3ab164a488f96de803bb4e4a1427"
#define KASA_DEMO_C2 "cdn.nenkin-info.example.jp"

#define KASA_DEMO_OD_MAIL1 "observed-data--ee534557-c2a6-4dcf-866a-e2136bfc55a0"
#define KASA_DEMO_OD_MAIL2 "observed-data--2e861157-87a6-4e8a-8115-7359271086e1"
#define KASA_DEMO_OD_WEB   "observed-data--39002563-f58e-4f95-8621-f601b9481732"
#define KASA_DEMO_OD_DNS   "observed-data--8c6f0ef6-2e9a-4376-a6e0-d4ec9f189dc4"
#define KASA_DEMO_OD_C2    "observed-data--48513063-d5f0-45ce-9cd7-4d21e026a04b"

/* What the sensor saw on 2015-05-08, as one STIX 2.1 bundle.  The
 * observed-data name their objects through object_refs; objects seen more
 * than once (the workstation's address, the C2 domain) are shared. */
static const char kasa_demo_bundle[] =
    "{\"type\": \"bundle\","
    " \"id\": \"bundle--48a84e75-33bc-402d-96a5-479f5f934e3e\","
    " \"objects\": ["
    /* 09:05:12, an ordinary mail between colleagues */
    "{\"type\": \"observed-data\", \"spec_version\": \"2.1\","
    " \"id\": \"" KASA_DEMO_OD_MAIL1 "\","
    " \"created\": \"2015-05-08T09:05:13.000Z\","
    " \"modified\": \"2015-05-08T09:05:13.000Z\","
    " \"first_observed\": \"2015-05-08T09:05:12Z\","
    " \"last_observed\": \"2015-05-08T09:05:12Z\", \"number_observed\": 1,"
    " \"object_refs\": "
    "[\"email-message--77b6dcc5-20f4-4856-8ecb-041e6debb272\","
    "  \"email-addr--ad5d9086-2fe6-4c14-92c8-026731c7b191\","
    "  \"email-addr--447dd7a6-4587-41ae-a808-e176442f23ef\"]},"
    "{\"type\": \"email-message\", \"spec_version\": \"2.1\","
    " \"id\": \"email-message--77b6dcc5-20f4-4856-8ecb-041e6debb272\","
    " \"is_multipart\": false, \"date\": \"2015-05-08T09:05:12Z\","
    " \"subject\": \"Minutes of the 7 May section meeting\","
    " \"from_ref\": \"email-addr--ad5d9086-2fe6-4c14-92c8-026731c7b191\","
    " \"to_refs\": [\"email-addr--447dd7a6-4587-41ae-a808-e176442f23ef\"],"
    " \"body\": \"The minutes are on the intranet.\"},"
    "{\"type\": \"email-addr\", \"spec_version\": \"2.1\","
    " \"id\": \"email-addr--ad5d9086-2fe6-4c14-92c8-026731c7b191\","
    " \"value\": \"tanaka@pension.example.jp\"},"
    "{\"type\": \"email-addr\", \"spec_version\": \"2.1\","
    " \"id\": \"email-addr--447dd7a6-4587-41ae-a808-e176442f23ef\","
    " \"value\": \"suzuki@pension.example.jp\"},"
    /* 09:12:05, the phishing mail with the dropper attached */
    "{\"type\": \"observed-data\", \"spec_version\": \"2.1\","
    " \"id\": \"" KASA_DEMO_OD_MAIL2 "\","
    " \"created\": \"2015-05-08T09:12:06.000Z\","
    " \"modified\": \"2015-05-08T09:12:06.000Z\","
    " \"first_observed\": \"2015-05-08T09:12:05Z\","
    " \"last_observed\": \"2015-05-08T09:12:05Z\", \"number_observed\": 1,"
    " \"object_refs\": "
    "[\"email-message--de07d1aa-1c7c-4547-901c-ab9e19e30e44\","
    "  \"email-addr--49309947-eab5-46d5-ad6c-dc6a99c02454\","
    "  \"email-addr--447dd7a6-4587-41ae-a808-e176442f23ef\","
    "  \"file--979a0e74-69d2-4e4e-ac26-efb0f895d2d6\"]},"
    "{\"type\": \"email-message\", \"spec_version\": \"2.1\","
    " \"id\": \"email-message--de07d1aa-1c7c-4547-901c-ab9e19e30e44\","
    " \"is_multipart\": true, \"date\": \"2015-05-08T09:12:05Z\","
    " \"subject\": \"Opinions on the draft review of the pension fund system\","
    " \"from_ref\": \"email-addr--49309947-eab5-46d5-ad6c-dc6a99c02454\","
    " \"to_refs\": [\"email-addr--447dd7a6-4587-41ae-a808-e176442f23ef\"],"
    " \"body_multipart\": ["
    "  {\"content_type\": \"text/plain; charset=iso-2022-jp\","
    "   \"body\": \"Please see the attached draft.\"},"
    "  {\"content_type\": \"application/octet-stream\","
    "   \"content_disposition\": \"attachment; filename=draft_review.exe\","
    "   \"body_raw_ref\": \"file--979a0e74-69d2-4e4e-ac26-efb0f895d2d6\"}]},"
    "{\"type\": \"email-addr\", \"spec_version\": \"2.1\","
    " \"id\": \"email-addr--49309947-eab5-46d5-ad6c-dc6a99c02454\","
    " \"value\": \"info@kenpo-news.example.jp\"},"
    "{\"type\": \"file\", \"spec_version\": \"2.1\","
    " \"id\": \"file--979a0e74-69d2-4e4e-ac26-efb0f895d2d6\","
    " \"name\": \"draft_review.exe\", \"size\": 231936,"
    " \"hashes\": {\"SHA-256\": \"" KASA_DEMO_HASH "\"}},"
    /* 09:14:30, ordinary web traffic to the intranet */
    "{\"type\": \"observed-data\", \"spec_version\": \"2.1\","
    " \"id\": \"" KASA_DEMO_OD_WEB "\","
    " \"created\": \"2015-05-08T09:14:31.000Z\","
    " \"modified\": \"2015-05-08T09:14:31.000Z\","
    " \"first_observed\": \"2015-05-08T09:14:30Z\","
    " \"last_observed\": \"2015-05-08T09:14:30Z\", \"number_observed\": 1,"
    " \"object_refs\": "
    "[\"network-traffic--5f9d7377-6346-47ca-9d0d-a7eef22d1fdd\","
    "  \"ipv4-addr--e8133ba5-d9cd-47b9-b9e3-c49147d720ba\","
    "  \"domain-name--7ea3765c-5019-485c-ac69-984a4bed94e4\"]},"
    "{\"type\": \"network-traffic\", \"spec_version\": \"2.1\","
    " \"id\": \"network-traffic--5f9d7377-6346-47ca-9d0d-a7eef22d1fdd\","
    " \"src_ref\": \"ipv4-addr--e8133ba5-d9cd-47b9-b9e3-c49147d720ba\","
    " \"dst_ref\": \"domain-name--7ea3765c-5019-485c-ac69-984a4bed94e4\","
    " \"src_port\": 49731, \"dst_port\": 443,"
    " \"protocols\": [\"ipv4\", \"tcp\", \"tls\"]},"
    "{\"type\": \"ipv4-addr\", \"spec_version\": \"2.1\","
    " \"id\": \"ipv4-addr--e8133ba5-d9cd-47b9-b9e3-c49147d720ba\","
    " \"value\": \"10.20.30.41\"},"
    "{\"type\": \"domain-name\", \"spec_version\": \"2.1\","
    " \"id\": \"domain-name--7ea3765c-5019-485c-ac69-984a4bed94e4\","
    " \"value\": \"intranet.pension.example.jp\"},"
    /* 09:16:40, the workstation looks up the C2 domain */
    "{\"type\": \"observed-data\", \"spec_version\": \"2.1\","
    " \"id\": \"" KASA_DEMO_OD_DNS "\","
    " \"created\": \"2015-05-08T09:16:41.000Z\","
    " \"modified\": \"2015-05-08T09:16:41.000Z\","
    " \"first_observed\": \"2015-05-08T09:16:40Z\","
    " \"last_observed\": \"2015-05-08T09:16:40Z\", \"number_observed\": 1,"
    " \"object_refs\": [\"domain-name--5788a51c-1f18-4851-843e-5cf585ddd6a2\","
    "  \"ipv4-addr--446227a9-2e3b-449e-a562-de43e1c907e1\"]},"
    "{\"type\": \"domain-name\", \"spec_version\": \"2.1\","
    " \"id\": \"domain-name--5788a51c-1f18-4851-843e-5cf585ddd6a2\","
    " \"value\": \"" KASA_DEMO_C2 "\","
    " \"resolves_to_refs\": "
    "[\"ipv4-addr--446227a9-2e3b-449e-a562-de43e1c907e1\"]},"
    "{\"type\": \"ipv4-addr\", \"spec_version\": \"2.1\","
    " \"id\": \"ipv4-addr--446227a9-2e3b-449e-a562-de43e1c907e1\","
    " \"value\": \"203.0.113.45\"},"
    /* 09:16:41, and connects to it: the first beacon */
    "{\"type\": \"observed-data\", \"spec_version\": \"2.1\","
    " \"id\": \"" KASA_DEMO_OD_C2 "\","
    " \"created\": \"2015-05-08T09:16:42.000Z\","
    " \"modified\": \"2015-05-08T09:16:42.000Z\","
    " \"first_observed\": \"2015-05-08T09:16:41Z\","
    " \"last_observed\": \"2015-05-08T09:16:41Z\", \"number_observed\": 1,"
    " \"object_refs\": "
    "[\"network-traffic--ee81537d-bf11-470b-8a78-e95c9d1f20ed\","
    "  \"ipv4-addr--e8133ba5-d9cd-47b9-b9e3-c49147d720ba\","
    "  \"domain-name--5788a51c-1f18-4851-843e-5cf585ddd6a2\","
    "  \"ipv4-addr--446227a9-2e3b-449e-a562-de43e1c907e1\"]},"
    "{\"type\": \"network-traffic\", \"spec_version\": \"2.1\","
    " \"id\": \"network-traffic--ee81537d-bf11-470b-8a78-e95c9d1f20ed\","
    " \"src_ref\": \"ipv4-addr--e8133ba5-d9cd-47b9-b9e3-c49147d720ba\","
    " \"dst_ref\": \"domain-name--5788a51c-1f18-4851-843e-5cf585ddd6a2\","
    " \"src_port\": 49740, \"dst_port\": 80,"
    " \"protocols\": [\"ipv4\", \"tcp\", \"http\"]}"
    "]}";

/* The observed-data of the bundle, for the listing a person reads. */
typedef struct kasa_demo_event {
    const char *id;
    const char *when;
    const char *what;
} kasa_demo_event;

static const kasa_demo_event kasa_demo_events[] = {
    {KASA_DEMO_OD_MAIL1, "09:05:12", "mail from a colleague, no attachment"},
    {KASA_DEMO_OD_MAIL2, "09:12:05",
     "phishing mail, attachment draft_review.exe"},
    {KASA_DEMO_OD_WEB, "09:14:30", "HTTPS to intranet.pension.example.jp"},
    {KASA_DEMO_OD_DNS, "09:16:40", "DNS lookup of " KASA_DEMO_C2},
    {KASA_DEMO_OD_C2, "09:16:41", "HTTP from 10.20.30.41 to " KASA_DEMO_C2},
};

/* An indicator as a partner would share it, and what it should do here:
 * match or not, and for a match which observed-data each observation
 * expression must bind (NULL: any). */
typedef struct kasa_demo_indicator {
    const char *title;
    const char *pattern;
    int expect_match;
    const char *expect_bound[2];
} kasa_demo_indicator;

static const kasa_demo_indicator kasa_demo_indicators[] = {
    {"Emdivi dropper, by the SHA-256 of the attachment",
     "[file:hashes.'SHA-256' =\n    '" KASA_DEMO_HASH "']",
     1,
     {KASA_DEMO_OD_MAIL2, NULL}},
    {"Emdivi command-and-control domain",
     "[domain-name:value = '" KASA_DEMO_C2 "']",
     1,
     {NULL, NULL}},
    {"The phishing mail, then traffic to the C2 within 10 minutes",
     "([email-message:body_multipart[*].body_raw_ref.hashes.'SHA-256' =\n"
     "    '" KASA_DEMO_HASH "']\n"
     " FOLLOWEDBY [network-traffic:dst_ref.value = '" KASA_DEMO_C2 "'])\n"
     "WITHIN 600 SECONDS",
     1,
     {KASA_DEMO_OD_MAIL2, KASA_DEMO_OD_C2}},
    {"C2 domain of another campaign (should not fire here)",
     "[domain-name:value = 'img.hokubu-portal.example.jp']",
     0,
     {NULL, NULL}},
};

/* A shared indicator whose hash was cut short when it was copied. */
static const char kasa_demo_bad_pattern[] =
    "[file:hashes.'SHA-256' = 'e10c9b56a3be49f0be4208e99dc83668']";

static const char *kasa_demo_when(const char *id)
{
    size_t i;

    for (i = 0; i < sizeof(kasa_demo_events) / sizeof(kasa_demo_events[0]); i++)
        if (id != NULL && strcmp(kasa_demo_events[i].id, id) == 0)
            return kasa_demo_events[i].when;
    return "?";
}

/* Print each line of a (possibly multi-line) pattern, indented. */
static void kasa_demo_print_pattern(const char *p)
{
    const char *nl;

    while ((nl = strchr(p, '\n')) != NULL) {
        printf("   %.*s\n", (int)(nl - p), p);
        p = nl + 1;
    }
    printf("   %s\n", p);
}

/* Run one indicator; returns 1 if it behaved as expected. */
static int kasa_demo_run(size_t n, const kasa_demo_indicator *ind,
                         const kasa_observed *od)
{
    kasa_pattern *p = NULL;
    kasa_binding *b = NULL;
    kasa_diag diag;
    kasa_err err;
    int matched = 0, ok;
    size_t i, count;

    printf("%zu. %s\n", n, ind->title);
    kasa_demo_print_pattern(ind->pattern);
    memset(&diag, 0, sizeof(diag));
    err = kasa_pattern_parse(ind->pattern, strlen(ind->pattern), KASA_STIX_2_1,
                             &p, &diag);
    if (err == KASA_OK)
        err = kasa_pattern_validate(p, &diag);
    if (err == KASA_OK)
        err = kasa_pattern_match(p, od, &matched, &b, &diag);
    if (err != KASA_OK) {
        if (diag.code == KASA_OK)
            diag.code = err;
        printf("   UNEXPECTED error: %s\n", kasa_cli_diag_message(&diag));
        kasa_pattern_free(p);
        return 0;
    }
    ok = matched == ind->expect_match;
    if (!matched) {
        printf("   no match%s\n", ok ? "" : "  <- UNEXPECTED: it should match");
    } else {
        count = b ? kasa_binding_count(b) : 0;
        for (i = 0; i < count; i++) {
            size_t obs, idx;
            const char *id;
            char num[32];

            kasa_binding_get(b, i, &obs, &idx);
            id = kasa_observed_id(od, idx);
            if (id == NULL) {
                snprintf(num, sizeof(num), "#%zu", idx);
                id = num;
            }
            if (obs < 2 && ind->expect_bound[obs] != NULL &&
                strcmp(ind->expect_bound[obs], id) != 0)
                ok = 0;
            printf("   %s [%zu] <- %s (%s)\n", i == 0 ? "matched" : "       ",
                   obs, id, kasa_demo_when(id));
        }
        if (count == 0)
            printf("   matched, but with no binding\n");
        if (!ok)
            printf("   <- UNEXPECTED: %s\n",
                   ind->expect_match ? "bound the wrong observed data"
                                     : "it should not match");
    }
    kasa_binding_free(b);
    kasa_pattern_free(p);
    return ok;
}

int kasa_cli_demo(int argc, char **argv)
{
    kasa_observed *od = NULL;
    kasa_pattern *p = NULL;
    kasa_diag diag;
    kasa_err err;
    size_t n = sizeof(kasa_demo_indicators) / sizeof(kasa_demo_indicators[0]);
    size_t nev = sizeof(kasa_demo_events) / sizeof(kasa_demo_events[0]);
    size_t i;
    size_t good = 0;
    int rejected;

    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            kasa_cli_help(stdout, "demo");
            return KASA_CLI_EXIT_OK;
        }
        return kasa_cli_usage_error("kasa demo --help", "demo: unknown %s '%s'",
                                    argv[1][0] == '-' ? "option" : "argument",
                                    argv[1]);
    }

    memset(&diag, 0, sizeof(diag));
    err = kasa_observed_parse(kasa_demo_bundle, sizeof(kasa_demo_bundle) - 1,
                              KASA_STIX_2_1, &od, &diag);
    if (err != KASA_OK) {
        if (diag.code == KASA_OK)
            diag.code = err;
        fprintf(stderr, "kasa demo: error: the built-in bundle: %u:%u: %s\n",
                diag.line, diag.column, kasa_cli_diag_message(&diag));
        return KASA_CLI_EXIT_FAIL;
    }

    printf(
        "kasa %s demo: indicators of the May 2015 Emdivi phishing campaign,\n"
        "matched against a STIX 2.1 bundle of what a sensor saw (UTC):\n",
        kasa_version());
    for (i = 0; i < nev; i++)
        printf("  %s  %s\n", kasa_demo_events[i].when,
               kasa_demo_events[i].what);
    printf("('[n] <- id': observation n of the pattern bound that "
           "observed-data)\n\n");

    for (i = 0; i < n; i++) {
        good += (size_t)kasa_demo_run(i + 1, &kasa_demo_indicators[i], od);
        putchar('\n');
    }

    printf("A shared indicator whose hash was cut short is rejected:\n");
    memset(&diag, 0, sizeof(diag));
    err = kasa_pattern_parse(kasa_demo_bad_pattern,
                             sizeof(kasa_demo_bad_pattern) - 1, KASA_STIX_2_1,
                             &p, &diag);
    if (err == KASA_OK)
        err = kasa_pattern_validate(p, &diag);
    rejected = err == KASA_ESYNTAX || err == KASA_EINVALID;
    if (err == KASA_OK) {
        printf("   %s\n   <- UNEXPECTED: accepted\n", kasa_demo_bad_pattern);
    } else {
        if (diag.code == KASA_OK)
            diag.code = err;
        if (diag.line > 0)
            printf("   pattern:%u:%u: error: %s\n", diag.line, diag.column,
                   kasa_cli_diag_message(&diag));
        else
            printf("   pattern: error: %s\n", kasa_cli_diag_message(&diag));
        kasa_cli_print_caret(stdout, "     ", kasa_demo_bad_pattern,
                             sizeof(kasa_demo_bad_pattern) - 1, &diag);
    }
    kasa_pattern_free(p);
    kasa_observed_free(od);

    putchar('\n');
    if (good == n && rejected) {
        printf("All %zu indicators behaved as expected, and the bad one was "
               "caught.\n",
               n);
        return KASA_CLI_EXIT_OK;
    }
    printf("FAILED: %zu of %zu indicators behaved as expected%s.\n", good, n,
           rejected ? "" : ", and the bad pattern was not rejected");
    return KASA_CLI_EXIT_FAIL;
}
