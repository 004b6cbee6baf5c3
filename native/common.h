/*
 * Shared helpers of the rpmsg_native addon: errors thrown as Error with a Node-style `code`
 * (the errno name) and `syscall`, as Node's own fs errors are.
 */
#ifndef RPMSG_NATIVE_COMMON_H
#define RPMSG_NATIVE_COMMON_H
#define NAPI_VERSION 8
#include <node_api.h>

/* Throws an Error for errno `e` raised by `syscall`; returns NULL for the caller to return. */
napi_value rpmsg_throw_errno(napi_env env, const char *syscall, int e);

/* Each part of the addon adds its functions to `exports` (one file per job: shm.c, ...). */
void rpmsg_register_shm(napi_env env, napi_value exports);
void rpmsg_register_fd(napi_env env, napi_value exports);
void rpmsg_register_chardev(napi_env env, napi_value exports);
void rpmsg_register_peercred(napi_env env, napi_value exports);

#endif
