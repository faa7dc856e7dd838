/*
 * vfs.c - the SQLite files of a store, through a thin layer over the
 * default VFS that gathers the appends to a connection's write-ahead log
 * into large writes.
 *
 * SQLite writes each frame of the log as two calls, its 24-byte header
 * and then the page, so a commit of 1,800 pages (one POST of 1,000 new
 * indicators into a store of a million: one page of the id index per new
 * id, at random) made 3,600 pwrite()s, each crossing a page of the kernel's
 * cache that the next one completes: 3.3 to 3.7 ms on this machine, where
 * the same bytes in writes of 128 KiB take 0.9 ms (measured with a C
 * program of both patterns, over a file in the page cache).  SQLite has no
 * such buffering of its own, and a VFS layer is its documented way to
 * change how files are written.
 *
 * What a log holds must reach the kernel before anything can read it:
 *
 *  - Only appends are gathered: a write below the highest offset written
 *    (a frame rewritten in its own transaction, checksums rewritten at its
 *    commit) first writes out what is gathered and then goes straight to
 *    the file, as does a write at offset 0 (the log starting anew).
 *  - A commit frame (its header's "database size" field is not zero) is
 *    written out as soon as its page follows, so a failure is returned to
 *    the commit, before SQLite publishes the frames in the shared index.
 *  - Before SQLite publishes anything in the shared index it calls
 *    xShmBarrier on the database file; the database file of the same
 *    connection writes its log's gathered bytes out there too.  The two
 *    files are paired by kasa__vfs_pair once the log is open; a log never
 *    paired gathers nothing.
 *  - xRead, xSync, xTruncate, xFileSize, xFileControl and xClose write the
 *    gathered bytes out first.
 *
 * A connection is used by one thread at a time (SQLITE_OPEN_NOMUTEX, one
 * store per thread), and its two files with it, so none of this locks.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"

/* the most the default VFS writes in one call: os_unix.c masks a write's
 * length with 0x1ffff, and a larger one is cut short and fails */
#define GATHER_BYTES (128 * 1024 - 1)
#define FRAME_HEADER 24 /* a log frame's header (SQLite's file format) */

typedef struct vfile vfile;
struct vfile {
    sqlite3_file base; /* our methods */
    vfile *log;        /* a database file: its connection's log, if paired */
    vfile *db;         /* a log: the database file it is paired with */
    bool is_log;
    bool commit_next; /* the next write is the page of a commit frame */
    int err;          /* a failed write-out that no caller was told of */
    char *buf;        /* gathered appends, at file offset `at` */
    size_t len;
    sqlite3_int64 at, high; /* high: the end of the highest write */
    sqlite3_file real[];    /* the default VFS's file, its szOsFile bytes */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs kasa_vfs;
static int registered = SQLITE_ERROR;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static vfile *vf(sqlite3_file *f)
{
    return (vfile *)f;
}

/* Write out what is gathered. */
static int drain(vfile *f)
{
    int rc;

    if (f->len == 0)
        return SQLITE_OK;
    rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->at);
    f->len = 0;
    return rc;
}

static int v_close(sqlite3_file *file)
{
    vfile *f = vf(file);
    int rc = drain(f), rc2;

    if (f->db != NULL)
        f->db->log = NULL;
    if (f->log != NULL)
        f->log->db = NULL;
    free(f->buf);
    f->buf = NULL;
    rc2 = f->real->pMethods->xClose(f->real);
    return rc != SQLITE_OK ? rc : rc2;
}

static int v_read(sqlite3_file *file, void *p, int n, sqlite3_int64 off)
{
    vfile *f = vf(file);
    int rc = drain(f);

    return rc != SQLITE_OK ? rc
                           : f->real->pMethods->xRead(f->real, p, n, off);
}

static int v_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
    vfile *f = vf(file);
    bool commit = false;
    int rc;

    if (f->err != SQLITE_OK)
        return f->err;
    if (f->db == NULL) /* not a log, or not paired */
        return f->real->pMethods->xWrite(f->real, p, n, off);
    if (n == FRAME_HEADER) {
        const unsigned char *h = p;

        /* bytes 4-7: the database's size in pages after a commit */
        commit = (h[4] | h[5] | h[6] | h[7]) != 0;
    } else if (f->commit_next) {
        commit = true;
    }
    f->commit_next = n == FRAME_HEADER && commit;
    if (off == 0)
        f->high = 0; /* the log starts anew */
    if (off == 0 || off < f->high || (size_t)n > GATHER_BYTES) {
        rc = drain(f);
        if (rc == SQLITE_OK)
            rc = f->real->pMethods->xWrite(f->real, p, n, off);
        if (off + n > f->high)
            f->high = off + n;
        return rc;
    }
    if (f->len > 0 &&
        (off != f->at + (sqlite3_int64)f->len || f->len + n > GATHER_BYTES)) {
        rc = drain(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    if (f->buf == NULL && (f->buf = malloc(GATHER_BYTES)) == NULL)
        return SQLITE_IOERR_NOMEM;
    if (f->len == 0)
        f->at = off;
    memcpy(f->buf + f->len, p, (size_t)n);
    f->len += (size_t)n;
    f->high = off + n;
    /* the page of a commit frame: out now, so that a failure fails the
     * commit (f->commit_next is set by its header, just before) */
    if (commit && n != FRAME_HEADER)
        return drain(f);
    return SQLITE_OK;
}

static int v_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    vfile *f = vf(file);
    int rc = drain(f);

    if (size < f->high)
        f->high = size;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int v_sync(sqlite3_file *file, int flags)
{
    vfile *f = vf(file);
    int rc = drain(f);

    if (rc == SQLITE_OK)
        rc = f->err;
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int v_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    vfile *f = vf(file);
    int rc = drain(f);

    return rc != SQLITE_OK ? rc
                           : f->real->pMethods->xFileSize(f->real, size);
}

static int v_lock(sqlite3_file *file, int level)
{
    return vf(file)->real->pMethods->xLock(vf(file)->real, level);
}

static int v_unlock(sqlite3_file *file, int level)
{
    return vf(file)->real->pMethods->xUnlock(vf(file)->real, level);
}

static int v_check_reserved(sqlite3_file *file, int *out)
{
    return vf(file)->real->pMethods->xCheckReservedLock(vf(file)->real, out);
}

static int v_file_control(sqlite3_file *file, int op, void *arg)
{
    vfile *f = vf(file);
    int rc = drain(f);

    return rc != SQLITE_OK ? rc
                           : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int v_sector_size(sqlite3_file *file)
{
    return vf(file)->real->pMethods->xSectorSize(vf(file)->real);
}

static int v_device_characteristics(sqlite3_file *file)
{
    return vf(file)->real->pMethods->xDeviceCharacteristics(vf(file)->real);
}

static int v_shm_map(sqlite3_file *file, int page, int size, int extend,
                     void volatile **out)
{
    return vf(file)->real->pMethods->xShmMap(vf(file)->real, page, size,
                                             extend, out);
}

static int v_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return vf(file)->real->pMethods->xShmLock(vf(file)->real, offset, n,
                                              flags);
}

/* Called before SQLite publishes frames in the shared index (and at other
 * times): the log's gathered bytes go out first. */
static void v_shm_barrier(sqlite3_file *file)
{
    vfile *f = vf(file);

    /* a failure no caller hears of: frames about to be published may be
     * missing, so every later write and sync of the log fails */
    if (f->log != NULL && drain(f->log) != SQLITE_OK)
        f->log->err = SQLITE_IOERR_WRITE;
    f->real->pMethods->xShmBarrier(f->real);
}

static int v_shm_unmap(sqlite3_file *file, int delete_flag)
{
    return vf(file)->real->pMethods->xShmUnmap(vf(file)->real, delete_flag);
}

static int v_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
    return vf(file)->real->pMethods->xFetch(vf(file)->real, off, n, out);
}

static int v_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    return vf(file)->real->pMethods->xUnfetch(vf(file)->real, off, p);
}

static const sqlite3_io_methods methods = {
    .iVersion = 3,
    .xClose = v_close,
    .xRead = v_read,
    .xWrite = v_write,
    .xTruncate = v_truncate,
    .xSync = v_sync,
    .xFileSize = v_file_size,
    .xLock = v_lock,
    .xUnlock = v_unlock,
    .xCheckReservedLock = v_check_reserved,
    .xFileControl = v_file_control,
    .xSectorSize = v_sector_size,
    .xDeviceCharacteristics = v_device_characteristics,
    .xShmMap = v_shm_map,
    .xShmLock = v_shm_lock,
    .xShmBarrier = v_shm_barrier,
    .xShmUnmap = v_shm_unmap,
    .xFetch = v_fetch,
    .xUnfetch = v_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
                  int flags, int *out_flags)
{
    vfile *f = vf(file);
    int rc;

    (void)vfs;
    memset(f, 0, sizeof(*f));
    rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
    /* SQLite calls xClose only if pMethods is set */
    f->base.pMethods = f->real->pMethods != NULL ? &methods : NULL;
    if (rc == SQLITE_OK && f->real->pMethods->iVersion < 3) {
        /* every method above is called on the default VFS's file */
        f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return SQLITE_CANTOPEN;
    }
    f->is_log = (flags & SQLITE_OPEN_WAL) != 0;
    return rc;
}

/* The rest of the VFS is the default one's. */
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n,
                           char *out)
{
    (void)vfs;
    return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *v_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return base_vfs->xDlOpen(base_vfs, name);
}

static void v_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    base_vfs->xDlError(base_vfs, n, out);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return base_vfs->xDlSym(base_vfs, h, sym);
}

static void v_dl_close(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    base_vfs->xDlClose(base_vfs, h);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return base_vfs->xRandomness(base_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return base_vfs->xSleep(base_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return base_vfs->xCurrentTime(base_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return base_vfs->xGetLastError(base_vfs, n, out);
}

static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static void register_vfs(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    if (base_vfs == NULL || base_vfs->iVersion < 2)
        return;
    kasa_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(vfile) + base_vfs->szOsFile,
        .mxPathname = base_vfs->mxPathname,
        .zName = "kasa",
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full_pathname,
        .xDlOpen = v_dl_open,
        .xDlError = v_dl_error,
        .xDlSym = v_dl_sym,
        .xDlClose = v_dl_close,
        .xRandomness = v_randomness,
        .xSleep = v_sleep,
        .xCurrentTime = v_current_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_current_time_int64,
    };
    registered = sqlite3_vfs_register(&kasa_vfs, 0);
}

const char *kasa__vfs_name(void)
{
    pthread_once(&once, register_vfs);
    return registered == SQLITE_OK ? kasa_vfs.zName : NULL;
}

void kasa__vfs_pair(sqlite3 *db)
{
    sqlite3_file *main = NULL, *log = NULL;
    vfile *m, *l;

    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &main) !=
            SQLITE_OK ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log) !=
            SQLITE_OK ||
        main == NULL || log == NULL || main->pMethods != &methods ||
        log->pMethods != &methods)
        return;
    m = vf(main);
    l = vf(log);
    if (m->log == l || !l->is_log || m->is_log)
        return;
    m->log = l;
    l->db = m;
}
