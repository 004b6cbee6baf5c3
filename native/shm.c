/*
 * shm: map a shared-memory file into the process as an ArrayBuffer (Node has no mmap).
 *
 *   map(path: string, size: number, create: boolean): ArrayBuffer
 *
 * MAP_SHARED, read/write. With `create` the file is created (mode 0666) and grown to `size`;
 * without it the file must already be at least `size` bytes. The mapping lives as long as the
 * ArrayBuffer (unmapped by its finalizer). Errors are thrown as Error with a Node-style `code`
 * (the errno name) and `syscall`.
 */
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value map_file(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!rpmsg_args(env, info, 3, argv, "map(path, size, create) expects three arguments")) return NULL;
  char path[4096];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len == 0 || len >= sizeof path - 1) {
    napi_throw_type_error(env, "EINVAL", "path must be a non-empty string");
    return NULL;
  }
  double dsize = 0;
  if (napi_get_value_double(env, argv[1], &dsize) != napi_ok || !(dsize > 0) || dsize > (double)(1ull << 40) ||
      dsize != (double)(size_t)dsize) {
    napi_throw_range_error(env, "EINVAL", "size must be a positive integer");
    return NULL;
  }
  size_t size = (size_t)dsize;
  bool create = false;
  napi_get_value_bool(env, argv[2], &create);

  int fd = open(path, O_RDWR | (create ? O_CREAT : 0), 0666);
  if (fd < 0) return rpmsg_throw_errno(env, "open", errno);
  struct stat st;
  if (fstat(fd, &st) != 0) return rpmsg_close_throw(env, fd, "fstat", errno);
  if ((size_t)st.st_size < size) {
    if (!create) return rpmsg_close_throw(env, fd, "map (file smaller than size)", EINVAL);
    if (ftruncate(fd, (off_t)size) != 0) return rpmsg_close_throw(env, fd, "ftruncate", errno);
  }
  void *addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int e = errno;
  close(fd);
  if (addr == MAP_FAILED) return rpmsg_throw_errno(env, "mmap", e);

  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, size, finalize_mapping, (void *)(uintptr_t)size, &ab) != napi_ok) {
    munmap(addr, size);
    napi_throw_error(env, "ENOMEM", "cannot wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  return ab;
}

RPMSG_REGISTER(shm,
               {"map", map_file})
