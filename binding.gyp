{
  "targets": [
    {
      "target_name": "rpmsg_shm",
      "sources": ["native/shm.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
