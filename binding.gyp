{
  "targets": [
    {
      "target_name": "rpmsg_native",
      "sources": ["native/addon.c", "native/common.c", "native/shm.c", "native/fd.c", "native/chardev.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
