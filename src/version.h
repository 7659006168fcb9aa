/* version.h -- the server version reported by INFO, HELLO and --version. */
#ifndef VERSION_H
#define VERSION_H

#define VALKEY_VERSION "8.0.2"
#define VALKEY_VERSION_NUM 0x00080002

#endif
