/*
 * Shared helpers of the rpmsg_native addon: errors thrown as Error with a Node-style `code`
 * (the errno name) and `syscall`, as Node's own fs errors are; argument checks that throw;
 * the result of a non-blocking syscall; and the export table each job file registers.
 */
#ifndef RPMSG_NATIVE_COMMON_H
#define RPMSG_NATIVE_COMMON_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Throws an Error for errno `e` raised by `syscall`; returns NULL for the caller to return. */
napi_value rpmsg_throw_errno(napi_env env, const char *syscall, int e);
/* Closes `fd` (a half-made resource), then throws errno `e` as rpmsg_throw_errno does. */
napi_value rpmsg_close_throw(napi_env env, int fd, const char *syscall, int e);

/* ---- arguments: each throws (code EINVAL) and returns false on a bad or missing one ---- */

/* The first `want` arguments; `usage` (or "missing arguments") is the message when fewer. */
bool rpmsg_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage);
bool rpmsg_arg_int(napi_env env, napi_value v, const char *what, int64_t min, int64_t max, int64_t *out);
bool rpmsg_arg_fd(napi_env env, napi_value v, int *fd);
/* The bytes of a Uint8Array / Buffer argument. */
bool rpmsg_arg_bytes(napi_env env, napi_value v, void **data, size_t *len);
/* argv[0] a file descriptor, argv[1] a Uint8Array. */
bool rpmsg_arg_fd_bytes(napi_env env, napi_value *argv, int *fd, void **data, size_t *len);
/* The only argument, a file descriptor. */
bool rpmsg_arg_fd_only(napi_env env, napi_callback_info info, int *fd);

napi_value rpmsg_num(napi_env env, double x);
napi_value rpmsg_undef(napi_env env);

/* ---- non-blocking syscalls ---- */

#define RPMSG_RETRY_EINTR(n, call) \
  do (n) = (call);                 \
  while ((n) < 0 && errno == EINTR)

static inline bool rpmsg_would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

/*
 * After a syscall retried on EINTR: false when it succeeded (n >= 0); true when it failed, having
 * thrown unless it would block (then *blocked is set and nothing is thrown).
 */
bool rpmsg_io_failed(napi_env env, ssize_t n, const char *syscall, bool *blocked);
/* A byte count as JS sees it: n, or -1 when the call would block; NULL after a throw. */
napi_value rpmsg_io_count(napi_env env, ssize_t n, const char *syscall);

/* ---- registration ---- */

struct rpmsg_fn {
  const char *name;
  napi_callback fn;
};
void rpmsg_export(napi_env env, napi_value exports, const struct rpmsg_fn *fns, size_t count);
/* Defines rpmsg_register_<job>(), which adds the listed {"name", function} pairs. */
#define RPMSG_REGISTER(job, ...)                                            \
  void rpmsg_register_##job(napi_env env, napi_value exports) {             \
    static const struct rpmsg_fn fns[] = {__VA_ARGS__};                     \
    rpmsg_export(env, exports, fns, sizeof fns / sizeof fns[0]);            \
  }

/* Each part of the addon adds its functions to `exports` (one file per job: shm.c, ...). */
void rpmsg_register_shm(napi_env env, napi_value exports);
void rpmsg_register_unix(napi_env env, napi_value exports);
void rpmsg_register_fdpass(napi_env env, napi_value exports);
void rpmsg_register_fdio(napi_env env, napi_value exports);
void rpmsg_register_eventfd(napi_env env, napi_value exports);
void rpmsg_register_mmap(napi_env env, napi_value exports);
void rpmsg_register_watch(napi_env env, napi_value exports);
void rpmsg_register_chardev(napi_env env, napi_value exports);
void rpmsg_register_peercred(napi_env env, napi_value exports);

#endif
