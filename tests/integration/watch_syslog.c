/*
 * watch_syslog.c - `kasa watch --syslog` as a syslog daemon receives it:
 * this program is the daemon.  It binds a UNIX datagram socket and a UDP
 * socket on 127.0.0.1, runs the real `kasa watch` (after `kasa import` of
 * three indicators) on EVE lines of which three match, and checks every
 * datagram as RFC 5424 says: the header (PRI 132 = local0.warning,
 * version 1, a UTC timestamp, host, app "kasa", the pid, MSGID
 * "warning"), the structured data naming the indicator and the source,
 * and a message that is the warning's JSON line, naming the same
 * indicator.
 *
 * usage: watch_syslog /path/to/kasa
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

static int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            printf("FAIL: " __VA_ARGS__);                                      \
            printf("\n");                                                      \
        }                                                                      \
    } while (0)

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static const char indicators[] =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
    "11111111-1111-4111-8111-111111111111\",\"created\":\"2026-01-01T00:00:"
    "00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[domain-"
    "name:value = 'c2.example']\",\"pattern_type\":\"stix\",\"valid_from\":"
    "\"2026-01-01T00:00:00Z\"}\n"
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
    "22222222-2222-4222-8222-222222222222\",\"created\":\"2026-01-01T00:00:"
    "00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-"
    "addr:value = '203.0.113.66']\",\"pattern_type\":\"stix\",\"valid_from\":"
    "\"2026-01-01T00:00:00Z\"}\n";

static const char eve[] =
    "{\"timestamp\":\"2026-11-23T10:00:01.000000+0900\",\"event_type\":\"dns\","
    "\"src_ip\":\"10.0.0.5\",\"dest_ip\":\"10.0.0.1\",\"dns\":{\"rrname\":"
    "\"c2.example\"}}\n"
    "{\"timestamp\":\"2026-11-23T10:00:02.000000+0900\",\"event_type\":"
    "\"flow\","
    "\"src_ip\":\"10.0.0.5\",\"dest_ip\":\"203.0.113.66\",\"proto\":\"TCP\"}\n"
    "{\"timestamp\":\"2026-11-23T10:00:03.000000+0900\",\"event_type\":\"dns\","
    "\"src_ip\":\"10.0.0.5\",\"dest_ip\":\"10.0.0.1\",\"dns\":{\"rrname\":"
    "\"ok.example\"}}\n"
    "{\"timestamp\":\"2026-11-23T10:00:04.000000+0900\",\"event_type\":"
    "\"alert\",\"src_ip\":\"10.0.0.5\",\"dest_ip\":\"10.9.9.9\",\"http\":{"
    "\"hostname\":\"c2.example\",\"url\":\"/\"}}\n";

/* One datagram, checked field by field. */
static void check_message(const char *m, size_t n)
{
    char buf[8192], *f[7], *p, *sd_end, *msg;
    const char *id, *sd_id;
    json_t *j;
    int i;

    CHECK(n < sizeof(buf), "a datagram of %zu bytes", n);
    if (n >= sizeof(buf))
        return;
    memcpy(buf, m, n);
    buf[n] = '\0';
    /* HEADER: PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP
     * MSGID */
    p = buf;
    for (i = 0; i < 6; i++) {
        f[i] = p;
        p = strchr(p, ' ');
        CHECK(p != NULL, "a header with six fields: %s", buf);
        if (!p)
            return;
        *p++ = '\0';
    }
    CHECK(strcmp(f[0], "<132>1") == 0, "PRI and version <132>1, not %s", f[0]);
    CHECK(strlen(f[1]) >= 20 && f[1][4] == '-' && f[1][10] == 'T' &&
              f[1][strlen(f[1]) - 1] == 'Z',
          "an RFC 3339 UTC timestamp, not %s", f[1]);
    CHECK(f[2][0] != '\0', "a hostname");
    CHECK(strcmp(f[3], "kasa") == 0, "APP-NAME kasa, not %s", f[3]);
    CHECK(atol(f[4]) > 0, "PROCID a pid, not %s", f[4]);
    CHECK(strcmp(f[5], "warning") == 0, "MSGID warning, not %s", f[5]);
    /* STRUCTURED-DATA */
    CHECK(strncmp(p, "[kasa@32473 indicator=\"", 23) == 0,
          "structured data [kasa@32473 ...], not %s", p);
    sd_id = p + 23;
    sd_end = strstr(p, "\"] ");
    CHECK(sd_end != NULL, "the structured data closed, then a message");
    if (!sd_end)
        return;
    CHECK(strstr(p, "source=\"eve:") != NULL, "a source in %s", p);
    msg = sd_end + 3;
    j = json_loads(msg, 0, NULL);
    CHECK(j != NULL, "a message that is the warning's JSON: %s", msg);
    id = json_string_value(
        json_object_get(json_object_get(j, "indicator"), "id"));
    CHECK(id && strncmp(sd_id, id, strlen(id)) == 0,
          "the message and the structured data name the same indicator");
    json_decref(j);
}

/* Read every datagram waiting on fd; their number. */
static int drain(int fd)
{
    char m[8192];
    int count = 0;
    ssize_t n;

    while ((n = recv(fd, m, sizeof(m), MSG_DONTWAIT)) > 0) {
        check_message(m, (size_t)n);
        count++;
    }
    return count;
}

static int run(const char *cmd)
{
    int rc = system(cmd);

    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/kasa-syslog.XXXXXX", cmd[4096], path[256];
    struct sockaddr_un sun;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int ux, udp, n;

    if (argc != 2) {
        fprintf(stderr, "usage: watch_syslog /path/to/kasa\n");
        return 2;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/indicators.jsonl", dir);
    write_file(path, indicators);
    snprintf(path, sizeof(path), "%s/eve.json", dir);
    write_file(path, eve);
    snprintf(cmd, sizeof(cmd),
             "'%s' import --store sqlite:%s/k.db --progress none "
             "%s/indicators.jsonl >/dev/null",
             argv[1], dir, dir);
    if (run(cmd) != 0) {
        printf("FAIL: kasa import\n");
        return 1;
    }

    /* the daemon: a UNIX datagram socket ... */
    ux = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/log.sock", dir);
    if (ux < 0 || bind(ux, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        perror("bind unix");
        return 2;
    }
    /* ... and UDP on loopback, on a port of the kernel's choosing */
    udp = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (udp < 0 || bind(udp, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(udp, (struct sockaddr *)&sin, &len) != 0) {
        perror("bind udp");
        return 2;
    }

    snprintf(cmd, sizeof(cmd),
             "'%s' watch --store sqlite:%s/k.db --no-sightings --reload 0 "
             "--syslog unix:%s %s/eve.json >%s/out 2>%s/err",
             argv[1], dir, sun.sun_path, dir, dir, dir);
    CHECK(run(cmd) == 0, "kasa watch --syslog unix: exits 0");
    n = drain(ux);
    CHECK(n == 3, "3 messages on the UNIX socket, not %d", n);

    snprintf(cmd, sizeof(cmd),
             "'%s' watch --store sqlite:%s/k.db --no-sightings --reload 0 "
             "--syslog udp:127.0.0.1:%u %s/eve.json >%s/out 2>%s/err",
             argv[1], dir, (unsigned)ntohs(sin.sin_port), dir, dir, dir);
    CHECK(run(cmd) == 0, "kasa watch --syslog udp: exits 0");
    n = drain(udp);
    CHECK(n == 3, "3 messages over UDP, not %d", n);

    snprintf(cmd, sizeof(cmd),
             "'%s' watch --store sqlite:%s/k.db --syslog tcp:x %s/eve.json "
             ">%s/out 2>%s/err",
             argv[1], dir, dir, dir, dir);
    CHECK(run(cmd) == 2, "a target of no known kind is a usage error");

    close(ux);
    close(udp);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)run(cmd);
    printf("watch_syslog: %s\n", failures ? "failed" : "ok");
    return failures ? 1 : 0;
}
