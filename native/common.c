/*
 * Shared helpers of the rpmsg_native addon (declared in common.h): errors thrown as Error
 * with a Node-style `code` (the errno name) and `syscall`. Kept apart from addon.c so that
 * the job files depend on this file only, never on the module's init.
 */
#include "common.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
