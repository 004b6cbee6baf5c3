/*
 * fd: a small file-descriptor toolkit for what Node cannot do itself. Every fd it creates is
 * O_NONBLOCK and O_CLOEXEC; every read or write is non-blocking and reports "would block" as a
 * return value (never as an exception), so nothing here ever blocks the event loop.
 *
 *   socketpair(): [number, number]             AF_UNIX SOCK_STREAM pair
 *   listenUnix(path, backlog): number           bind + listen on a UNIX socket path
 *   acceptUnix(fd): number                      a connected socket, or -1 when none is pending
 *   connectUnix(path): number                   a connected UNIX stream socket
 *   recvFds(fd, buf, maxFds): {bytes, fds}|null recvmsg with SCM_RIGHTS; null = would block;
 *                                               bytes 0 = peer closed; received fds are ours
 *   sendFds(fd, buf, fds): number               sendmsg with SCM_RIGHTS; -1 = would block
 *   read(fd, buf) / write(fd, buf): number      bytes; -1 = would block; read 0 = end of file
 *   eventfd(initval): number                    a non-blocking eventfd
 *   eventfdRead(fd): number                     the counter (and resets it); 0 = not signalled
 *   eventfdWrite(fd, value): boolean            false = would block (counter would overflow)
 *   memfd(name, size): number                   an anonymous shared-memory file of `size` bytes
 *   mmapFd(fd, size, offset): ArrayBuffer       MAP_SHARED read/write mapping of [offset,
 *                                               offset+size) of fd; unmapped by the buffer's
 *                                               finalizer; the fd may be closed afterwards
 *   munmap(buffer): void                        unmaps a buffer from mmapFd now (instead of at
 *                                               GC) and detaches it: every view of it becomes
 *                                               empty, so a stale view reads nothing, never
 *                                               freed memory (idempotent)
 *   setNonBlocking(fd): void                    O_NONBLOCK on a descriptor received from a peer
 *   close(fd): void
 *   watch(fd, events, cb): handle               libuv readiness watcher (uv_poll) on Node's
 *                                               loop: cb(status, events) with events 1 readable,
 *                                               2 writable, status < 0 a -errno from libuv
 *   unwatch(handle): void                       stops it (idempotent); must precede close(fd)
 *   watchRef(handle, ref): void                 whether it keeps the event loop alive
 *
 * A watch runs until unwatch() or the environment's teardown, whether or not JS keeps the
 * handle. libuv allows one watcher per fd per loop. An exception thrown by `cb` becomes an
 * uncaught exception, as from any Node callback.
 *
 * mmapFd refuses a range beyond the end of a regular file (touching it would raise SIGBUS);
 * a peer that shrinks the file after the mapping can still do that: pass sealed memfds or
 * trust the peer's kernel object (see the vhost-user platform's notes).
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#define MAX_FDS 16

/* ---- argument helpers: each throws and returns false on a bad argument ---- */

static bool arg_int(napi_env env, napi_value v, const char *what, int64_t min, int64_t max, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int64_t)d || d < (double)min || d > (double)max) {
    char text[128];
    snprintf(text, sizeof text, "%s must be an integer in [%lld, %lld]", what, (long long)min, (long long)max);
    napi_throw_range_error(env, "EINVAL", text);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

static bool arg_fd(napi_env env, napi_value v, int *fd) {
  int64_t x;
  if (!arg_int(env, v, "fd", 0, INT32_MAX, &x)) return false;
  *fd = (int)x;
  return true;
}

/* The bytes of a TypedArray / Buffer argument. */
static bool arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) {
    napi_throw_type_error(env, "EINVAL", "expected a Uint8Array");
    return false;
  }
  napi_typedarray_type type;
  size_t length;
  napi_get_typedarray_info(env, v, &type, &length, data, NULL, NULL);
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, "EINVAL", "expected a Uint8Array");
    return false;
  }
  *len = length;
  return true;
}

static bool arg_path(napi_env env, napi_value v, struct sockaddr_un *sa) {
  size_t len = 0;
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (napi_get_value_string_utf8(env, v, sa->sun_path, sizeof sa->sun_path, &len) != napi_ok || len == 0 ||
      len >= sizeof sa->sun_path - 1) {
    napi_throw_range_error(env, "EINVAL", "socket path must be a non-empty string shorter than 107 bytes");
    return false;
  }
  return true;
}

static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, "EINVAL", "missing arguments");
    return false;
  }
  return true;
}

static napi_value num(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

static napi_value undef(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

/* ---- sockets ---- */

static napi_value fd_socketpair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
    return rpmsg_throw_errno(env, "socketpair", errno);
  }
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, sv[0]));
  napi_set_element(env, arr, 1, num(env, sv[1]));
  return arr;
}

static napi_value fd_listen_unix(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sockaddr_un sa;
  int64_t backlog;
  if (!get_args(env, info, 2, argv) || !arg_path(env, argv[0], &sa) ||
      !arg_int(env, argv[1], "backlog", 1, 4096, &backlog)) {
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return rpmsg_throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, (int)backlog) != 0) {
    int e = errno;
    close(fd);
    return rpmsg_throw_errno(env, "bind/listen", e);
  }
  return num(env, fd);
}

static napi_value fd_accept_unix(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) {
    if (would_block(errno) || errno == ECONNABORTED || errno == EINTR) return num(env, -1);
    return rpmsg_throw_errno(env, "accept4", errno);
  }
  return num(env, c);
}

static napi_value fd_connect_unix(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct sockaddr_un sa;
  if (!get_args(env, info, 1, argv) || !arg_path(env, argv[0], &sa)) return NULL;
  /* Blocking connect (immediate for a local UNIX socket with a listener), then non-blocking. */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return rpmsg_throw_errno(env, "socket", errno);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
    int e = errno;
    close(fd);
    return rpmsg_throw_errno(env, "connect", e);
  }
  return num(env, fd);
}

static napi_value fd_recv_fds(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  void *data;
  size_t len;
  int64_t max_fds;
  if (!get_args(env, info, 3, argv) || !arg_fd(env, argv[0], &fd) || !arg_bytes(env, argv[1], &data, &len) ||
      !arg_int(env, argv[2], "maxFds", 0, MAX_FDS, &max_fds)) {
    return NULL;
  }
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  } control;
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = CMSG_SPACE(sizeof(int) * MAX_FDS)};
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (would_block(errno)) {
      napi_value nul;
      napi_get_null(env, &nul);
      return nul;
    }
    return rpmsg_throw_errno(env, "recvmsg", errno);
  }
  /* Collect every passed fd; those beyond maxFds are closed here and counted as dropped. */
  napi_value fds, out;
  napi_create_array(env, &fds);
  uint32_t kept = 0, dropped = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int passed;
      memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
      if (kept < (uint32_t)max_fds) {
        napi_set_element(env, fds, kept++, num(env, passed));
      } else {
        close(passed);
        dropped++;
      }
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) dropped++; /* the kernel closed some already */
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "bytes", num(env, (double)n));
  napi_set_named_property(env, out, "fds", fds);
  napi_set_named_property(env, out, "droppedFds", num(env, dropped));
  return out;
}

static napi_value fd_send_fds(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  void *data;
  size_t len;
  if (!get_args(env, info, 3, argv) || !arg_fd(env, argv[0], &fd) || !arg_bytes(env, argv[1], &data, &len)) {
    return NULL;
  }
  uint32_t count = 0;
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  if (!is_array || napi_get_array_length(env, argv[2], &count) != napi_ok || count > MAX_FDS) {
    napi_throw_range_error(env, "EINVAL", "fds must be an array of at most 16 fds");
    return NULL;
  }
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (count > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    for (uint32_t i = 0; i < count; i++) {
      napi_value v;
      int passed;
      napi_get_element(env, argv[2], i, &v);
      if (!arg_fd(env, v, &passed)) return NULL;
      memcpy(CMSG_DATA(c) + i * sizeof(int), &passed, sizeof passed);
    }
  }
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (would_block(errno)) return num(env, -1);
    return rpmsg_throw_errno(env, "sendmsg", errno);
  }
  return num(env, (double)n);
}

/* ---- plain non-blocking I/O, eventfd, memfd ---- */

static napi_value fd_read(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  void *data;
  size_t len;
  if (!get_args(env, info, 2, argv) || !arg_fd(env, argv[0], &fd) || !arg_bytes(env, argv[1], &data, &len)) {
    return NULL;
  }
  ssize_t n;
  do n = read(fd, data, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (would_block(errno)) return num(env, -1);
    return rpmsg_throw_errno(env, "read", errno);
  }
  return num(env, (double)n);
}

static napi_value fd_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  void *data;
  size_t len;
  if (!get_args(env, info, 2, argv) || !arg_fd(env, argv[0], &fd) || !arg_bytes(env, argv[1], &data, &len)) {
    return NULL;
  }
  ssize_t n;
  do n = write(fd, data, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (would_block(errno)) return num(env, -1);
    return rpmsg_throw_errno(env, "write", errno);
  }
  return num(env, (double)n);
}

static napi_value fd_eventfd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t initval;
  if (!get_args(env, info, 1, argv) || !arg_int(env, argv[0], "initval", 0, UINT32_MAX, &initval)) return NULL;
  int fd = eventfd((unsigned)initval, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return rpmsg_throw_errno(env, "eventfd", errno);
  return num(env, fd);
}

static napi_value fd_eventfd_read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  uint64_t value = 0;
  ssize_t n;
  do n = read(fd, &value, sizeof value);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (would_block(errno)) return num(env, 0);
    return rpmsg_throw_errno(env, "read (eventfd)", errno);
  }
  if (n != sizeof value) return rpmsg_throw_errno(env, "read (eventfd: not an eventfd)", EINVAL);
  return num(env, (double)value);
}

static napi_value fd_eventfd_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int64_t value;
  if (!get_args(env, info, 2, argv) || !arg_fd(env, argv[0], &fd) ||
      !arg_int(env, argv[1], "value", 1, UINT32_MAX, &value)) {
    return NULL;
  }
  uint64_t v = (uint64_t)value;
  ssize_t n;
  do n = write(fd, &v, sizeof v);
  while (n < 0 && errno == EINTR);
  napi_value r;
  if (n < 0) {
    if (!would_block(errno)) return rpmsg_throw_errno(env, "write (eventfd)", errno);
    napi_get_boolean(env, false, &r);
    return r;
  }
  napi_get_boolean(env, true, &r);
  return r;
}

static napi_value fd_memfd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t size;
  char name[64];
  size_t len;
  if (!get_args(env, info, 2, argv) || !arg_int(env, argv[1], "size", 0, (int64_t)1 << 40, &size)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "name must be a string");
    return NULL;
  }
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return rpmsg_throw_errno(env, "memfd_create", errno);
  if (ftruncate(fd, (off_t)size) != 0) {
    int e = errno;
    close(fd);
    return rpmsg_throw_errno(env, "ftruncate", e);
  }
  return num(env, fd);
}

static napi_value fd_set_nonblocking(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return rpmsg_throw_errno(env, "fcntl", errno);
  return undef(env);
}

static napi_value fd_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  if (close(fd) != 0 && errno != EINTR) return rpmsg_throw_errno(env, "close", errno);
  return undef(env);
}

/* ---- mmap of a passed fd ---- */

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
  if (!get_args(env, info, 1, argv)) return NULL;
  napi_is_arraybuffer(env, argv[0], &is_ab);
  if (!is_ab) {
    napi_throw_type_error(env, "EINVAL", "expected an ArrayBuffer from mmapFd()");
    return NULL;
  }
  void *data = NULL;
  size_t len = 0;
  napi_get_arraybuffer_info(env, argv[0], &data, &len);
  if (data == NULL) return undef(env); /* already detached */
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
  return undef(env);
}

static napi_value fd_mmap(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t size, offset;
  if (!get_args(env, info, 3, argv) || !arg_fd(env, argv[0], &fd) ||
      !arg_int(env, argv[1], "size", 1, (int64_t)1 << 40, &size) ||
      !arg_int(env, argv[2], "offset", 0, (int64_t)1 << 52, &offset)) {
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

/* ---- readiness watcher: uv_poll on Node's own loop ---- */

/*
 * Freed by whichever comes last: libuv's close callback (after unwatch or teardown) or the
 * finalizer of the JS handle.
 */
struct watcher {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  bool stopping;
  bool closed;
  bool finalized;
};

static void watcher_closed(uv_handle_t *h) {
  struct watcher *w = h->data;
  w->closed = true;
  if (w->finalized) free(w);
}

static void watcher_stop(struct watcher *w) {
  if (w->stopping) return;
  w->stopping = true;
  uv_poll_stop(&w->poll);
  napi_delete_reference(w->env, w->cb);
  napi_async_destroy(w->env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, watcher_closed);
}

static void watcher_teardown(void *arg) { watcher_stop(arg); }

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct watcher *w = data;
  w->finalized = true;
  if (w->closed) free(w);
}

static void watcher_event(uv_poll_t *h, int status, int events) {
  struct watcher *w = h->data;
  if (w->stopping) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &recv); /* make_callback wants an object as `this` */
  argv[0] = num(env, status);
  argv[1] = num(env, events);
  if (napi_make_callback(env, w->ctx, recv, cb, 2, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value fd_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t events;
  if (!get_args(env, info, 3, argv) || !arg_fd(env, argv[0], &fd) ||
      !arg_int(env, argv[1], "events", 1, UV_READABLE | UV_WRITABLE, &events)) {
    return NULL;
  }
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "EINVAL", "callback must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, "ENXIO", "no libuv loop");
    return NULL;
  }
  struct watcher *w = calloc(1, sizeof *w);
  if (w == NULL) return rpmsg_throw_errno(env, "calloc", ENOMEM);
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r != 0) {
    free(w);
    return rpmsg_throw_errno(env, "uv_poll_init", -r);
  }
  w->poll.data = w;
  w->env = env;
  napi_value name, handle;
  napi_create_string_utf8(env, "rpmsg.fdwatch", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[2], 1, &w->cb);
  napi_async_init(env, NULL, name, &w->ctx);
  r = uv_poll_start(&w->poll, (int)events, watcher_event);
  if (r != 0) {
    watcher_stop(w);
    w->finalized = true; /* no JS handle: the close callback frees */
    return rpmsg_throw_errno(env, "uv_poll_start", -r);
  }
  napi_add_env_cleanup_hook(env, watcher_teardown, w);
  napi_create_external(env, w, watcher_finalize, NULL, &handle);
  return handle;
}

static bool arg_watcher(napi_env env, napi_value v, struct watcher **w) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_external || napi_get_value_external(env, v, (void **)w) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "expected a handle from watch()");
    return false;
  }
  return true;
}

static napi_value fd_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct watcher *w;
  if (!get_args(env, info, 1, argv) || !arg_watcher(env, argv[0], &w)) return NULL;
  if (!w->stopping) {
    napi_remove_env_cleanup_hook(env, watcher_teardown, w);
    watcher_stop(w);
  }
  return undef(env);
}

static napi_value fd_watch_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct watcher *w;
  bool ref = true;
  if (!get_args(env, info, 2, argv) || !arg_watcher(env, argv[0], &w)) return NULL;
  napi_get_value_bool(env, argv[1], &ref);
  if (!w->stopping) {
    if (ref) uv_ref((uv_handle_t *)&w->poll);
    else uv_unref((uv_handle_t *)&w->poll);
  }
  return undef(env);
}

void rpmsg_register_fd(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"socketpair", fd_socketpair}, {"listenUnix", fd_listen_unix},   {"acceptUnix", fd_accept_unix},
      {"connectUnix", fd_connect_unix}, {"recvFds", fd_recv_fds},      {"sendFds", fd_send_fds},
      {"read", fd_read},             {"write", fd_write},              {"eventfd", fd_eventfd},
      {"eventfdRead", fd_eventfd_read}, {"eventfdWrite", fd_eventfd_write}, {"memfd", fd_memfd},
      {"mmapFd", fd_mmap},           {"munmap", fd_munmap}, {"setNonBlocking", fd_set_nonblocking},            {"close", fd_close},              {"watch", fd_watch},
      {"unwatch", fd_unwatch},       {"watchRef", fd_watch_ref},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
