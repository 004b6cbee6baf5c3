/*
 * mmap: shared memory through file descriptors: an anonymous memfd to share, and a mapping of
 * a (passed) fd as an ArrayBuffer, as vhost-user maps the driver's memory regions.
 *
 *   memfd(name, size): number                   an anonymous shared-memory file of `size` bytes
 *   mmapFd(fd, size, offset): ArrayBuffer       MAP_SHARED read/write mapping of [offset,
 *                                               offset+size) of fd; unmapped by the buffer's
 *                                               finalizer; the fd may be closed afterwards
 *   sealShrink(fd): boolean                     makes the file impossible to shrink (adds
 *                                               F_SEAL_SHRINK where the file allows it) and
 *                                               says whether it now is: true for a sealable
 *                                               memfd, or one its creator sealed already
 *   munmap(buffer): void                        unmaps a buffer from mmapFd now (instead of at
 *                                               GC) and detaches it: every view of it becomes
 *                                               empty, so a stale view reads nothing, never
 *                                               freed memory (idempotent)
 *
 * mmapFd refuses a range beyond the end of a regular file (touching it would raise SIGBUS);
 * a peer that shrinks the file after the mapping can still do that unless the file is sealed
 * against shrinking: sealShrink() seals what can be sealed, and the vhost-user device can
 * refuse memory that cannot (requireSealedMemory).
 */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static napi_value fd_memfd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t size;
  char name[64];
  size_t len;
  if (!rpmsg_args(env, info, 2, argv, NULL) || !rpmsg_arg_int(env, argv[1], "size", 0, (int64_t)1 << 40, &size)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "name must be a string");
    return NULL;
  }
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return rpmsg_throw_errno(env, "memfd_create", errno);
  if (ftruncate(fd, (off_t)size) != 0) return rpmsg_close_throw(env, fd, "ftruncate", errno);
  return rpmsg_num(env, fd);
}

static napi_value fd_seal_shrink(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!rpmsg_args(env, info, 1, argv, NULL) || !rpmsg_arg_fd(env, argv[0], &fd)) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) return rpmsg_throw_errno(env, "fstat", errno);
  /* EPERM (sealing not allowed, or F_SEAL_SEAL set) and EINVAL (not a memfd) are answers, not
   * errors: the seals already present decide. */
  if (S_ISREG(st.st_mode)) (void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
  int seals = S_ISREG(st.st_mode) ? fcntl(fd, F_GET_SEALS) : -1;
  napi_value out;
  napi_get_boolean(env, seals >= 0 && (seals & F_SEAL_SHRINK) != 0, &out);
  return out;
}

/*
 * Live mappings, so that munmap() can find a buffer's mapping by its data pointer. The list is
 * shared by every thread that loads the addon, hence the lock.
 */
struct mapping {
  void *base; /* NULL once unmapped */
  size_t length;
  void *data;
  struct mapping *next;
};
static struct mapping *mappings;
static pthread_mutex_t mappings_lock = PTHREAD_MUTEX_INITIALIZER;

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  struct mapping *m = hint;
  pthread_mutex_lock(&mappings_lock);
  for (struct mapping **p = &mappings; *p != NULL; p = &(*p)->next) {
    if (*p == m) {
      *p = m->next;
      break;
    }
  }
  pthread_mutex_unlock(&mappings_lock);
  if (m->base != NULL) munmap(m->base, m->length);
  free(m);
}

static napi_value fd_munmap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bool is_ab = false;
  if (!rpmsg_args(env, info, 1, argv, NULL)) return NULL;
  napi_is_arraybuffer(env, argv[0], &is_ab);
  if (!is_ab) {
    napi_throw_type_error(env, "EINVAL", "expected an ArrayBuffer from mmapFd()");
    return NULL;
  }
  void *data = NULL;
  size_t len = 0;
  napi_get_arraybuffer_info(env, argv[0], &data, &len);
  if (data == NULL) return rpmsg_undef(env); /* already detached */
  struct mapping *m = NULL;
  pthread_mutex_lock(&mappings_lock);
  for (struct mapping *p = mappings; p != NULL; p = p->next) {
    if (p->data == data && p->base != NULL) {
      m = p;
      break;
    }
  }
  pthread_mutex_unlock(&mappings_lock);
  if (m == NULL) {
    napi_throw_type_error(env, "EINVAL", "expected an ArrayBuffer from mmapFd()");
    return NULL;
  }
  /* Detach first: no view can reach the pages once they are gone. */
  if (napi_detach_arraybuffer(env, argv[0]) != napi_ok) {
    napi_throw_error(env, "EINVAL", "the buffer cannot be detached");
    return NULL;
  }
  pthread_mutex_lock(&mappings_lock);
  void *base = m->base;
  m->base = NULL;
  pthread_mutex_unlock(&mappings_lock);
  if (base != NULL) munmap(base, m->length);
  return rpmsg_undef(env);
}

static napi_value fd_mmap(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t size, offset;
  if (!rpmsg_args(env, info, 3, argv, NULL) || !rpmsg_arg_fd(env, argv[0], &fd) ||
      !rpmsg_arg_int(env, argv[1], "size", 1, (int64_t)1 << 40, &size) ||
      !rpmsg_arg_int(env, argv[2], "offset", 0, (int64_t)1 << 52, &offset)) {
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return rpmsg_throw_errno(env, "fstat", errno);
  if (S_ISREG(st.st_mode) && (st.st_size < offset || st.st_size - offset < size)) {
    return rpmsg_throw_errno(env, "mmap (range beyond the end of the file)", EINVAL);
  }
  /* mmap wants a page-aligned offset; vhost-user's mmap_offset need not be one. */
  long page = sysconf(_SC_PAGESIZE);
  size_t lead = (size_t)(offset % page);
  struct mapping *m = malloc(sizeof *m);
  if (m == NULL) return rpmsg_throw_errno(env, "malloc", ENOMEM);
  m->length = (size_t)size + lead;
  m->base = mmap(NULL, m->length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(offset - (int64_t)lead));
  if (m->base == MAP_FAILED) {
    int e = errno;
    free(m);
    return rpmsg_throw_errno(env, "mmap", e);
  }
  m->data = (char *)m->base + lead;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, m->data, (size_t)size, finalize_mapping, m, &ab) != napi_ok) {
    munmap(m->base, m->length);
    free(m);
    napi_throw_error(env, "ENOMEM", "cannot wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  pthread_mutex_lock(&mappings_lock);
  m->next = mappings;
  mappings = m;
  pthread_mutex_unlock(&mappings_lock);
  return ab;
}

RPMSG_REGISTER(mmap,
               {"memfd", fd_memfd}, {"mmapFd", fd_mmap}, {"sealShrink", fd_seal_shrink},
               {"munmap", fd_munmap})
