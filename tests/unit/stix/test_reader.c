/*
 * test_reader.c - the streaming reader (src/stix/reader.c): what it finds
 * in bundles written in any member order, JSON lines, bare arrays, MISP
 * events and feeds; that one broken object is reported with its place
 * and the next one still read; that a broken stream stops with the byte
 * where it broke; and that an object over the size limit is skipped
 * without being held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kasa/stix.h"

#ifndef KASA_TEST_DATA_DIR
#define KASA_TEST_DATA_DIR "tests/data"
#endif

static char path[64];

/* Write `text` to a new temporary file, and return its path. */
static const char *file_with(const char *text, size_t len)
{
    FILE *f;
    int fd;

    strcpy(path, "/tmp/kasa-test-reader.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static kasa_stix_reader *open_text(const char *text, size_t max)
{
    kasa_stix_reader *r = NULL;
    kasa_stix_diag d;

    assert_int_equal(
        kasa_stix_reader_open(file_with(text, strlen(text)), max, &r, &d),
        KASA_OK);
    unlink(path);
    return r;
}

/* The next object's id (or "" if it has none); NULL at the end.  Fails
 * the test on an error. */
static const char *next_id(kasa_stix_reader *r, char buf[128])
{
    kasa_stix_diag d;
    json_t *obj;
    const char *raw;
    size_t len;

    if (kasa_stix_reader_next(r, &obj, &raw, &len, &d) != KASA_OK)
        fail_msg("reader: %s", d.message);
    if (obj == NULL)
        return NULL;
    /* the raw text is the object */
    {
        json_t *again = json_loadb(raw, len, 0, NULL);

        assert_non_null(again);
        assert_true(json_equal(again, obj));
        json_decref(again);
    }
    snprintf(buf, 128, "%s",
             json_string_value(json_object_get(obj, "id"))
                 ? json_string_value(json_object_get(obj, "id"))
                 : "");
    json_decref(obj);
    return buf;
}

static void test_bundle_any_member_order(void **state)
{
    static const char *const texts[] = {
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":"
        "[{\"type\":\"x\",\"id\":\"a\"},{\"type\":\"x\",\"id\":\"b\"}]}",
        /* objects first, then the rest of the bundle */
        "{\"objects\":[{\"type\":\"x\",\"id\":\"a\"} , "
        "{\"type\":\"x\",\"id\":\"b\"}\n],\"type\":\"bundle\","
        "\"id\":\"bundle--1\"}",
        /* whitespace everywhere, a BOM-less pretty print */
        "\n{\n  \"id\" : \"bundle--1\" ,\n  \"type\" : \"bundle\",\n"
        "  \"objects\" : [\n    {\"type\": \"x\", \"id\": \"a\", "
        "\"s\": \"]}\\\"{[\"},\n    {\"type\": \"x\", \"id\": \"b\"}\n  ]\n}\n",
    };
    char buf[128];
    size_t i;

    for (i = 0; i < 3; i++) {
        kasa_stix_reader *r = open_text(texts[i], 0);

        assert_string_equal(next_id(r, buf), "a");
        assert_int_equal(kasa_stix_reader_input(r), KASA_STIX_INPUT_BUNDLE);
        assert_string_equal(next_id(r, buf), "b");
        assert_null(next_id(r, buf));
        assert_null(next_id(r, buf));
        kasa_stix_reader_free(r);
    }
}

static void test_bundle_version(void **state)
{
    kasa_stix_reader *r = open_text(
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"spec_version\":\"2.0\","
        "\"objects\":[{\"type\":\"x\",\"id\":\"a\"}]}",
        0);
    char buf[128];

    assert_string_equal(next_id(r, buf), "a");
    assert_string_equal(kasa_stix_reader_bundle_version(r), "2.0");
    kasa_stix_reader_free(r);
}

static void test_json_lines_and_arrays(void **state)
{
    kasa_stix_reader *r;
    char buf[128];

    r = open_text("{\"type\":\"x\",\"id\":\"a\"}\n{\"type\":\"x\",\"id\":\"b\"}"
                  "{\"type\":\"x\",\"id\":\"c\"}\n\n",
                  0);
    assert_string_equal(next_id(r, buf), "a");
    assert_int_equal(kasa_stix_reader_input(r), KASA_STIX_INPUT_OBJECTS);
    assert_string_equal(next_id(r, buf), "b");
    assert_string_equal(next_id(r, buf), "c");
    assert_null(next_id(r, buf));
    kasa_stix_reader_free(r);

    /* a line that is itself a bundle gives its objects */
    r = open_text("{\"type\":\"x\",\"id\":\"a\"}\n{\"type\":\"bundle\","
                  "\"id\":\"bundle--2\",\"objects\":[{\"type\":\"x\","
                  "\"id\":\"b\"}]}\n",
                  0);
    assert_string_equal(next_id(r, buf), "a");
    assert_string_equal(next_id(r, buf), "b");
    assert_null(next_id(r, buf));
    kasa_stix_reader_free(r);

    r = open_text(
        "[{\"type\":\"x\",\"id\":\"a\"},{\"type\":\"x\",\"id\":\"b\"}]", 0);
    assert_string_equal(next_id(r, buf), "a");
    assert_string_equal(next_id(r, buf), "b");
    assert_null(next_id(r, buf));
    kasa_stix_reader_free(r);

    r = open_text("", 0);
    assert_null(next_id(r, buf));
    kasa_stix_reader_free(r);
}

static void test_one_bad_object_then_more(void **state)
{
    kasa_stix_reader *r =
        open_text("{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
                  "{\"type\":\"x\",\"id\":\"a\"},"
                  "{\"type\":\"x\",\"id\":\"b\" \"oops\":1},"
                  "42,"
                  "{\"type\":\"x\",\"id\":\"c\"}]}",
                  0);
    kasa_stix_diag d;
    json_t *obj;
    char buf[128];

    assert_string_equal(next_id(r, buf), "a");
    assert_int_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                     KASA_EJSON);
    assert_null(obj);
    assert_int_equal(d.index, 1);
    /* the byte of the token at fault: the quote that opens "oops" */
    assert_int_equal(d.offset, 88);
    assert_non_null(strstr(d.message, "invalid JSON"));
    assert_non_null(strstr(d.message, "near '\"oops\"'"));
    assert_true(kasa_stix_reader_can_continue(r));
    assert_int_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                     KASA_EDATA);
    assert_int_equal(d.index, 2);
    assert_non_null(strstr(d.message, "a number, not a JSON object"));
    assert_string_equal(next_id(r, buf), "c");
    assert_null(next_id(r, buf));
    kasa_stix_reader_free(r);
}

static void test_truncated_stream(void **state)
{
    const char *text = "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
                       "{\"type\":\"x\",\"id\":\"a\"},"
                       "{\"type\":\"x\",\"id\":\"b\",\"s\":\"unterminated";
    kasa_stix_reader *r = open_text(text, 0);
    kasa_stix_diag d;
    json_t *obj;
    char buf[128];

    assert_string_equal(next_id(r, buf), "a");
    assert_int_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                     KASA_EJSON);
    assert_false(kasa_stix_reader_can_continue(r));
    assert_non_null(strstr(d.message, "ends inside object 1"));
    /* and it stays stopped */
    assert_int_not_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                         KASA_OK);
    kasa_stix_reader_free(r);

    r = open_text("{\"type\":\"bundle\",\"objects\":[{\"type\":\"x\"} "
                  "{\"type\":\"x\"}]}",
                  0);
    assert_string_equal(next_id(r, buf), "");
    assert_int_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                     KASA_EJSON);
    assert_non_null(strstr(d.message, "expected ',' or ']' after object 0, "
                                      "found '{'"));
    assert_false(kasa_stix_reader_can_continue(r));
    kasa_stix_reader_free(r);

    r = open_text("not json", 0);
    assert_int_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                     KASA_EJSON);
    assert_non_null(strstr(d.message, "found 'n'"));
    kasa_stix_reader_free(r);
}

static void test_object_over_the_limit_is_skipped(void **state)
{
    /* a 3 MB string in the second object; the limit is 64 KB */
    size_t big = 3u << 20, n = 0;
    char *text = malloc(big + 256), buf[128];
    kasa_stix_reader *r = NULL;
    kasa_stix_diag d;
    json_t *obj;

    n += (size_t)sprintf(text + n, "{\"type\":\"bundle\",\"objects\":["
                                   "{\"type\":\"x\",\"id\":\"a\"},"
                                   "{\"type\":\"x\",\"s\":\"");
    memset(text + n, 'A', big);
    n += big;
    n += (size_t)sprintf(text + n, "\"},{\"type\":\"x\",\"id\":\"c\"}]}");
    assert_int_equal(kasa_stix_reader_open(file_with(text, n), 65536, &r, &d),
                     KASA_OK);
    unlink(path);
    free(text);
    assert_string_equal(next_id(r, buf), "a");
    assert_int_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                     KASA_ELIMIT);
    assert_int_equal(d.index, 1);
    assert_non_null(strstr(d.message, "limit"));
    assert_true(kasa_stix_reader_can_continue(r));
    assert_string_equal(next_id(r, buf), "c");
    assert_null(next_id(r, buf));
    kasa_stix_reader_free(r);
}

static void test_deep_nesting(void **state)
{
    size_t depth = 100000, n = 0, i;
    char *text = malloc(2 * depth + 128), buf[128];
    kasa_stix_reader *r = NULL;
    kasa_stix_diag d;
    json_t *obj;

    n += (size_t)sprintf(text + n, "{\"type\":\"bundle\",\"objects\":[{\"a\":");
    for (i = 0; i < depth; i++)
        text[n++] = '[';
    for (i = 0; i < depth; i++)
        text[n++] = ']';
    n += (size_t)sprintf(text + n, "},{\"type\":\"x\",\"id\":\"b\"}]}");
    assert_int_equal(kasa_stix_reader_open(file_with(text, n), 0, &r, &d),
                     KASA_OK);
    unlink(path);
    free(text);
    assert_int_equal(kasa_stix_reader_next(r, &obj, NULL, NULL, &d),
                     KASA_EJSON);
    assert_non_null(strstr(d.message, "depth"));
    assert_string_equal(next_id(r, buf), "b");
    kasa_stix_reader_free(r);
}

static void test_misp(void **state)
{
    kasa_stix_reader *r = NULL;
    kasa_stix_diag d;
    size_t count = 0;
    char buf[128];

    assert_int_equal(kasa_stix_reader_open(KASA_TEST_DATA_DIR
                                           "/misp/event_emdivi.json",
                                           0, &r, &d),
                     KASA_OK);
    while (next_id(r, buf) != NULL)
        count++;
    assert_int_equal(kasa_stix_reader_input(r), KASA_STIX_INPUT_MISP_EVENT);
    assert_true(kasa_stix_reader_misp(r)->indicators > 0);
    /* an identity, the indicators, markings, the report */
    assert_true(count > kasa_stix_reader_misp(r)->indicators + 1);
    kasa_stix_reader_free(r);

    assert_int_equal(
        kasa_stix_reader_open(KASA_TEST_DATA_DIR "/misp/feed", 0, &r, &d),
        KASA_OK);
    count = 0;
    while (next_id(r, buf) != NULL)
        count++;
    assert_int_equal(kasa_stix_reader_input(r), KASA_STIX_INPUT_MISP_FEED);
    assert_true(count > 3);
    kasa_stix_reader_free(r);

    assert_int_equal(kasa_stix_reader_open("/nonexistent/kasa.json", 0, &r, &d),
                     KASA_EIO);
    assert_non_null(strstr(d.message, "/nonexistent/kasa.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundle_any_member_order),
        cmocka_unit_test(test_bundle_version),
        cmocka_unit_test(test_json_lines_and_arrays),
        cmocka_unit_test(test_one_bad_object_then_more),
        cmocka_unit_test(test_truncated_stream),
        cmocka_unit_test(test_object_over_the_limit_is_skipped),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_misp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
