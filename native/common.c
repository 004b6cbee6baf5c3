/*
 * Shared helpers of the rpmsg_native addon (declared in common.h): errors thrown as Error
 * with a Node-style `code` (the errno name) and `syscall`, argument checks, the result of a
 * non-blocking syscall, the export table. Kept apart from addon.c so that the job files
 * depend on this file only, never on the module's init.
 */
#include "common.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *errno_code(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EISDIR: return "EISDIR";
    case EFBIG: return "EFBIG";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRINUSE: return "EADDRINUSE";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOTCONN: return "ENOTCONN";
    case EMFILE: return "EMFILE";
    case EMSGSIZE: return "EMSGSIZE";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EBUSY: return "EBUSY";
    case EFAULT: return "EFAULT";
    case ENOTTY: return "ENOTTY";
    default: return "EIO";
  }
}

napi_value rpmsg_throw_errno(napi_env env, const char *syscall, int e) {
  napi_value msg, code, err, sys;
  char text[256];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(e));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &err);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, err, "syscall", sys);
  napi_throw(env, err);
  return NULL;
}

napi_value rpmsg_close_throw(napi_env env, int fd, const char *syscall, int e) {
  close(fd);
  return rpmsg_throw_errno(env, syscall, e);
}

bool rpmsg_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, "EINVAL", usage != NULL ? usage : "missing arguments");
    return false;
  }
  return true;
}

bool rpmsg_arg_int(napi_env env, napi_value v, const char *what, int64_t min, int64_t max, int64_t *out) {
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

bool rpmsg_arg_fd(napi_env env, napi_value v, int *fd) {
  int64_t x;
  if (!rpmsg_arg_int(env, v, "fd", 0, INT32_MAX, &x)) return false;
  *fd = (int)x;
  return true;
}

bool rpmsg_arg_fd_bytes(napi_env env, napi_value *argv, int *fd, void **data, size_t *len) {
  return rpmsg_arg_fd(env, argv[0], fd) && rpmsg_arg_bytes(env, argv[1], data, len);
}

bool rpmsg_arg_fd_only(napi_env env, napi_callback_info info, int *fd) {
  napi_value argv[1];
  return rpmsg_args(env, info, 1, argv, NULL) && rpmsg_arg_fd(env, argv[0], fd);
}

bool rpmsg_arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type type = napi_int8_array;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL);
  if (!is_ta || type != napi_uint8_array) {
    napi_throw_type_error(env, "EINVAL", "expected a Uint8Array");
    return false;
  }
  return true;
}

napi_value rpmsg_num(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

napi_value rpmsg_undef(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

bool rpmsg_io_failed(napi_env env, ssize_t n, const char *syscall, bool *blocked) {
  if (n >= 0) return false;
  *blocked = rpmsg_would_block(errno);
  if (!*blocked) rpmsg_throw_errno(env, syscall, errno);
  return true;
}

napi_value rpmsg_io_count(napi_env env, ssize_t n, const char *syscall) {
  bool blocked = false;
  if (rpmsg_io_failed(env, n, syscall, &blocked)) return blocked ? rpmsg_num(env, -1) : NULL;
  return rpmsg_num(env, (double)n);
}

void rpmsg_export(napi_env env, napi_value exports, const struct rpmsg_fn *fns, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
