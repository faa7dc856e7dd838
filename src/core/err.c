/*
 * err.c - the names of kasa's error codes and the library version.  Not
 * for formatting diagnostics: see diag.c.
 */
#include "kasa/kasa.h"

const char *kasa_strerror(kasa_err err)
{
    switch (err) {
    case KASA_OK: return "success";
    case KASA_ENOMEM: return "out of memory";
    case KASA_EINVAL: return "invalid argument";
    case KASA_ESYNTAX: return "syntax error";
    case KASA_EINVALID: return "invalid input";
    case KASA_EJSON: return "malformed JSON";
    case KASA_EDATA: return "unusable data";
    case KASA_EEVAL: return "evaluation failed";
    case KASA_ELIMIT: return "limit exceeded";
    case KASA_EIO: return "input/output error";
    case KASA_EDENIED: return "access denied";
    case KASA_ENOTFOUND: return "not found";
    }
    return "unknown error";
}

const char *kasa_version(void)
{
    return KASA_VERSION_STRING;
}
