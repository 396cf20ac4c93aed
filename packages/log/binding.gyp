{
  "targets": [
    {
      "target_name": "samsa_crc32c",
      "sources": ["native/crc32c.c"],
      "cflags": ["-O2", "-std=c11"]
    }
  ]
}
