{
  "targets": [
    {
      "target_name": "rpmsg_native",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native').filter(function (f) { return f.slice(-2) === '.c' }).sort().map(function (f) { return 'native/' + f }).join(' ')\")"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
