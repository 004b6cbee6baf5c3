/*
 * peercred: the credentials of the process at the other end of a connected UNIX socket, as the
 * kernel recorded them at connect() (SO_PEERCRED, unix(7)). Node exposes no way to read them;
 * the daemon's policy matches clients by uid/gid with it.
 *
 *   peercred(fd: number): { pid: number, uid: number, gid: number }
 *
 * The values cannot be forged by the peer: the kernel fills them in. Errors are thrown with a
 * Node-style `code` (the errno name) and `syscall`.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

static napi_value peercred(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!rpmsg_args(env, info, 1, argv, "peercred(fd) expects a file descriptor") || !rpmsg_arg_fd(env, argv[0], &fd)) {
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return rpmsg_throw_errno(env, "getsockopt", errno);
  if (len != sizeof cred) return rpmsg_throw_errno(env, "getsockopt (short SO_PEERCRED)", EINVAL);
  napi_value out, pid, uid, gid;
  napi_create_object(env, &out);
  napi_create_int32(env, (int32_t)cred.pid, &pid);
  napi_create_uint32(env, (uint32_t)cred.uid, &uid);
  napi_create_uint32(env, (uint32_t)cred.gid, &gid);
  napi_set_named_property(env, out, "pid", pid);
  napi_set_named_property(env, out, "uid", uid);
  napi_set_named_property(env, out, "gid", gid);
  return out;
}

RPMSG_REGISTER(peercred,
               {"peercred", peercred})
