/*
 * time.c - STIX timestamps: strict parsing of the RFC 3339 profile STIX
 * uses ("2016-05-12T08:17:27.000Z"), comparison and arithmetic.  Times are
 * kept as seconds and nanoseconds since the epoch, proleptic Gregorian,
 * so years 0000-9999 all fit.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

int64_t kasa__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool kasa__digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dim[m - 1];
}

bool kasa__time_parse(const char *s, size_t len, bool check_day,
                      kasa__time *out)
{
    unsigned y, mo, d, h, mi, se;
    int32_t ns = 0;
    size_t i, nd;

    /* YYYY-MM-DDTHH:MM:SS is 19 bytes; then optional .fff, then Z */
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z')
        return false;
    if (!kasa__digits(s, 4, &y) || !kasa__digits(s + 5, 2, &mo) ||
        !kasa__digits(s + 8, 2, &d) || !kasa__digits(s + 11, 2, &h) ||
        !kasa__digits(s + 14, 2, &mi) || !kasa__digits(s + 17, 2, &se))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    if (check_day && d > days_in_month(y, mo))
        return false;
    if (len > 20) {
        if (s[19] != '.' || len == 21)
            return false;
        for (i = 20, nd = 0; i < len - 1; i++, nd++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            if (nd < 9)
                ns = ns * 10 + (s[i] - '0');
        }
        for (; nd < 9; nd++)
            ns *= 10;
    }
    out->sec =
        kasa__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    out->nsec = ns;
    return true;
}

int kasa__time_cmp(kasa__time a, kasa__time b)
{
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec)
        return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

kasa__time kasa__time_from_seconds(double seconds)
{
    kasa__time d;
    double whole;

    /* beyond any representable STIX time: saturate */
    if (seconds > 1e15)
        seconds = 1e15;
    if (seconds < -1e15)
        seconds = -1e15;
    whole = floor(seconds);
    d.sec = (int64_t)whole;
    d.nsec = (int32_t)llround((seconds - whole) * 1e9);
    if (d.nsec >= 1000000000) {
        d.sec++;
        d.nsec -= 1000000000;
    }
    return d;
}

kasa__time kasa__time_add(kasa__time a, kasa__time d)
{
    a.sec += d.sec;
    a.nsec += d.nsec;
    if (a.nsec >= 1000000000) {
        a.sec++;
        a.nsec -= 1000000000;
    }
    return a;
}

kasa__time kasa__time_add_seconds(kasa__time a, double seconds)
{
    return kasa__time_add(a, kasa__time_from_seconds(seconds));
}

/* y-m-d of a day count from 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t kasa__time_format(kasa__time t, unsigned frac_digits, char out[40])
{
    int64_t days = t.sec / 86400, secs = t.sec % 86400, y;
    unsigned m, d, i, frac = (unsigned)t.nsec;
    char *p = out;

    if (secs < 0) {
        secs += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    p += sprintf(p, "%04u-%02u-%02uT%02u:%02u:%02u", (unsigned)y, m, d,
                 (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
                 (unsigned)(secs % 60));
    if (frac_digits > 9)
        frac_digits = 9;
    if (frac_digits > 0) {
        char f[10];

        for (i = 9; i-- > 0; frac /= 10)
            f[i] = (char)('0' + frac % 10);
        *p++ = '.';
        memcpy(p, f, frac_digits);
        p += frac_digits;
    }
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}
