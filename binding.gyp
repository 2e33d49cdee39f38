{
  "targets": [
    {
      "target_name": "tap",
      "sources": ["native/tap/tap.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["native/tap/tap.c"]}]]
    }
  ]
}
